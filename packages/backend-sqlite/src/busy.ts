/**
 * Waiting out SQLITE_BUSY. SQLite's own busy handler sleeps on a widening ladder (1, 2, 5 … 100 ms)
 * and a sleeper is often overtaken by a process that asks again at once: on this machine two
 * processes on one row saw single waits of 50–530 ms. Here SQLite's handler is off (busy_timeout 0)
 * and every caller polls on its own: first in sub-millisecond jittered steps (synchronously, for a
 * few ms: short locks are the common case, and a frequent poller is not starved), then in
 * jittered 1–4 ms steps that yield the event loop, until the caller's deadline.
 */
import { Backoff, BackendUnavailableError, sleep } from '@agent-state/core';
import { BACKEND_NAME, isBusy, toStateError } from './errors.js';

/** How long a caller polls synchronously (sub-ms steps) before it starts yielding the event loop. */
export const SYNC_PHASE_MS = 5;
/** Upper bound of one synchronous step, in ms. */
const MAX_SYNC_STEP_MS = 0.25;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (fractions allowed) without burning CPU. */
function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Counters of waits for the write lock, reported by `health()`. */
export interface BusyStats {
  /** Operations that found the database locked at least once. */
  waits: number;
  /** Their total wait, in ms. */
  totalWaitMs: number;
  /** The longest single wait, in ms. */
  maxWaitMs: number;
}

/** Runs synchronous database work, retrying it while the database is locked by someone else. */
export class BusyRetry {
  readonly stats: BusyStats = { waits: 0, totalWaitMs: 0, maxWaitMs: 0 };

  constructor(
    private readonly path: string,
    private readonly budgetMs: number,
  ) {}

  /**
   * Runs `work(arg)` now; while it fails with SQLITE_BUSY, runs it again until `budgetMs` has
   * passed, then rejects with `BackendUnavailableError` naming `setting` (what bounded the wait).
   * `work` must be all-or-nothing (one statement or one transaction), which makes running it
   * again safe. Other driver errors are mapped by toStateError.
   */
  run<A, T>(work: (arg: A) => T, arg: A, budgetMs = this.budgetMs, setting = 'busy_timeout_ms'): Promise<T> {
    // `arg` instead of a closure over it: this is every operation's hot path.
    try {
      return Promise.resolve(work(arg));
    } catch (error) {
      if (!isBusy(error)) return Promise.reject(toStateError(error, this.path));
      return this.#waitOut(work, arg, budgetMs, setting, error);
    }
  }

  async #waitOut<A, T>(work: (arg: A) => T, arg: A, budgetMs: number, setting: string, first: unknown): Promise<T> {
    const started = performance.now();
    const deadline = started + budgetMs;
    const backoff = new Backoff(1, 4);
    let step = 0.02;
    let last = first;
    for (;;) {
      const now = performance.now();
      if (now >= deadline) {
        this.#record(now - started);
        throw new BackendUnavailableError(
          BACKEND_NAME,
          this.path,
          `the database stayed locked by another connection for ${Math.round(budgetMs)} ms (${setting})`,
          { cause: last },
        );
      }
      if (now - started < SYNC_PHASE_MS) {
        sleepSync(Math.min(step * (0.5 + Math.random()), deadline - now));
        step = Math.min(step * 1.5, MAX_SYNC_STEP_MS);
      } else {
        await sleep(Math.min(backoff.next(), deadline - now));
      }
      try {
        const result = work(arg);
        this.#record(performance.now() - started);
        return result;
      } catch (error) {
        if (!isBusy(error)) throw toStateError(error, this.path);
        last = error;
      }
    }
  }

  #record(ms: number): void {
    this.stats.waits++;
    this.stats.totalWaitMs += ms;
    if (ms > this.stats.maxWaitMs) this.stats.maxWaitMs = ms;
  }
}
