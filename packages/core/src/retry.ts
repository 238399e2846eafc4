import { LockTimeoutError, isStateError } from './errors.js';
import type { LockLease } from './types.js';
import { blockingWait } from './coordination/wait.js';
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

/** How a lock waiter hears that the resource was released (backends with `lockWake`). */
export interface LockWake {
  /** Starts listening for releases of `resource`; returns the function that stops. */
  listen(resource: string, onWake: () => void): Promise<() => Promise<void>>;
  /** The client's close signal: `close()` ends the wait with its reason. */
  closeSignal?: AbortSignal | undefined;
}

/** Longest pause between two tries while waiting on releases: a lease that runs out wakes nobody. */
const WOKEN_RECHECK_MS = 25;

/**
 * Lock waiting shared by every backend: calls `tryOnce` until it returns a lease, never past
 * `waitMs`; then `LockTimeoutError`. `waitMs = 0` makes exactly one attempt. Without `wake` it
 * sleeps with decorrelated jitter (1–25 ms) between tries. With `wake` (the backend announces
 * releases) it listens after the first failed try and tries again on each release as well as on
 * the same 1–25 ms jitter (for leases that run out, and wakeups that lag); a release between a
 * try and the wait is not lost.
 */
export async function waitForLock(
  resource: string,
  waitMs: number,
  tryOnce: () => Promise<LockLease | null>,
  wake?: LockWake,
): Promise<LockLease> {
  // performance.now(): a wall-clock jump neither ends the wait early nor makes it endless.
  const deadline = performance.now() + waitMs;
  const first = await tryOnce();
  if (first) return first;
  if (wake && waitMs > 0) {
    const lease = await blockingWait<LockLease>({
      check: async () => (await tryOnce()) ?? undefined,
      listen: (onWake) => wake.listen(resource, onWake),
      waitMs: Math.max(0, deadline - performance.now()),
      // The same 1–25 ms jitter as without wakeups (a wakeup can lag a release by an inotify or
      // pub/sub hop; a waiter that also tries on its own keeps the uncontended-handoff p95).
      minRecheckMs: 1,
      maxRecheckMs: WOKEN_RECHECK_MS,
      closeSignal: wake.closeSignal,
    });
    if (lease) return lease;
    throw new LockTimeoutError(resource, waitMs);
  }
  const backoff = new Backoff(1, 25);
  for (;;) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new LockTimeoutError(resource, waitMs);
    await sleep(Math.min(backoff.next(), remaining));
    const lease = await tryOnce();
    if (lease) return lease;
  }
}
