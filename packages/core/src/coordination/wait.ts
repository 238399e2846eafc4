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
  /** First pause of the re-check backoff; default 5 ms for a poll source, maxRecheckMs / 4 for a push one. */
  minRecheckMs?: number | undefined;
  /**
   * Taken before the first check: a probe saying whether the topic woke since, when the source
   * was listening already (see `WakeSource.mark`). With it, a waiter whose probe says "no" after
   * `listen` skips the second look (nothing changed after the first began).
   */
  mark?: (() => (() => boolean) | undefined) | undefined;
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
  const probe = w.waitMs > 0 ? w.mark?.() : undefined;
  const first = await w.check();
  if (first !== undefined || w.waitMs <= 0) return first;
  const deadline = performance.now() + w.waitMs;
  let pending = false;
  let wake: (() => void) | undefined;
  const unlisten = await w.listen(() => {
    pending = true;
    wake?.();
  });
  // Re-checks on a timer are for what wakes nobody (a delayed job coming due, a lease running
  // out): short ones when the source is a poll (maxRecheckMs ≤ 100), a quarter of the longest
  // pause and up when it pushes, so an idle waiter does not look again and again for nothing.
  const backoff = new Backoff(w.minRecheckMs ?? (w.maxRecheckMs <= 100 ? 5 : w.maxRecheckMs / 4), w.maxRecheckMs);
  // Listening already when the first look began, and no wakeup since: nothing to look at again.
  let skip = probe !== undefined && !probe();
  try {
    for (;;) {
      throwIfAborted();
      if (!skip || pending) {
        pending = false;
        const result = await w.check();
        if (result !== undefined) return result;
      }
      skip = false;
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
