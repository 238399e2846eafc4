import { LockTimeoutError, isStateError } from './errors.js';
import type { LockLease } from './types.js';
import { Backoff, sleep } from './timing.js';

/**
 * The optimistic retry loop shared by `update`, `increment` and `transaction`: runs `attempt`
 * until it does not throw `ConflictError`, at most `maxRetries` retries, with jittered backoff.
 * Any other error propagates unchanged at once.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxRetries: number): Promise<T> {
  const backoff = new Backoff(0.5, 20);
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isStateError(error, 'CONFLICT') || tries >= maxRetries) throw error;
      if (tries > 0) await sleep(backoff.next());
    }
  }
}

/**
 * Lock waiting shared by every backend: calls `tryOnce` until it returns a lease, sleeping with
 * decorrelated jitter (1–25 ms), never past `waitMs`; then `LockTimeoutError`. `waitMs = 0`
 * makes exactly one attempt.
 */
export async function waitForLock(
  resource: string,
  waitMs: number,
  tryOnce: () => Promise<LockLease | null>,
): Promise<LockLease> {
  // performance.now(): a wall-clock jump neither ends the wait early nor makes it endless.
  const deadline = performance.now() + waitMs;
  const backoff = new Backoff(1, 25);
  for (;;) {
    const lease = await tryOnce();
    if (lease) return lease;
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new LockTimeoutError(resource, waitMs);
    await sleep(Math.min(backoff.next(), remaining));
  }
}

