import { InvalidValueError } from '../errors.js';
import { Backoff } from '../timing.js';

/** Checks an optional `signal` option. */
export function assertSignal(signal: unknown, field = 'options.signal'): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  if (!(signal instanceof AbortSignal)) throw new InvalidValueError(field, signal, 'expected an AbortSignal');
}

/** What {@link blockingWait} needs. */
export interface BlockingWait<T> {
  /** One look: a result, or `undefined` to keep waiting. */
  check(): Promise<T | undefined>;
  /** Starts listening for changes; returns the function that stops. */
  listen(onWake: () => void): Promise<() => Promise<void>>;
  /** How long to wait in all, in ms (0: one check). */
  waitMs: number;
  /** Longest pause between re-checks when nothing wakes us. */
  maxRecheckMs: number;
  signal?: AbortSignal | undefined;
  /** The client's close signal: `close()` ends the wait at once with `StateClosedError`. */
  closeSignal?: AbortSignal | undefined;
}

/**
 * "Check, listen, check again, wait": the one blocking-wait loop behind `dequeue`, `receive`,
 * `waitFor` and `follow`. Resolves with the first result, or `undefined` once `waitMs` has
 * passed (measured with `performance.now()`, so a wall-clock jump changes nothing); an aborted
 * `signal` rejects with its reason. A wakeup that lands between a check and the wait is not
 * lost (it is remembered), and re-checks also run on a backoff timer of at most `maxRecheckMs`.
 */
export async function blockingWait<T>(w: BlockingWait<T>): Promise<T | undefined> {
  const signals = [w.signal, w.closeSignal].filter((s): s is AbortSignal => s !== undefined);
  const throwIfAborted = (): void => {
    for (const s of signals) s.throwIfAborted();
  };
  throwIfAborted();
  const first = await w.check();
  if (first !== undefined || w.waitMs <= 0) return first;
  const deadline = performance.now() + w.waitMs;
  let pending = false;
  let wake: (() => void) | undefined;
  const unlisten = await w.listen(() => {
    pending = true;
    wake?.();
  });
  const backoff = new Backoff(5, w.maxRecheckMs);
  try {
    for (;;) {
      throwIfAborted();
      pending = false;
      const result = await w.check();
      if (result !== undefined) return result;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      if (pending) continue;
      await new Promise<void>((resolve, reject) => {
        const cleanup = (): void => {
          clearTimeout(timer);
          for (const s of signals) s.removeEventListener('abort', onAbort);
          wake = undefined;
        };
        const done = (): void => {
          cleanup();
          resolve();
        };
        const onAbort = (event: Event): void => {
          cleanup();
          // The signal's own reason, whatever the caller aborted with (an Error by default).
          reject((event.target as AbortSignal).reason as Error);
        };
        const timer = setTimeout(done, Math.min(remaining, backoff.next()));
        wake = done;
        for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    await unlisten();
  }
}
