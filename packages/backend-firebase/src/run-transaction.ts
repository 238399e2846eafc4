/**
 * Every change goes through `Reference.transaction()`: the database applies it only if the node
 * still has the content (hash) the update function saw, and otherwise re-runs the function on
 * fresh data. That is the one atomic compare-and-set the Realtime Database offers.
 *
 * Rules kept here, once:
 * - The function never aborts (returns `undefined`) on a failed check: the SDK first runs it on
 *   its local copy, which may lag the server. It returns the node unchanged instead, so the
 *   server confirms the refusal on its own data (a stale copy just causes a re-run) — a refused
 *   compare-and-set costs one no-op write. Only `skip` steps (housekeeping) abort locally.
 * - `applyLocally` is false: nobody must see a value before the server accepted it.
 * - The outcome is the one computed by the last run, which is the one the server applied.
 * - After 25 stale rounds the SDK gives up (`maxretry`); under heavy contention we try again
 *   with backoff, for at most the connection's timeout (`connect_timeout_ms`) in all: then
 *   `TimeoutError` (code `TIMEOUT`), so no call waits forever on a hot node.
 */
import { Backoff, BackendUnavailableError, TimeoutError, isStateError, sleep } from '@agent-state/core';
import type { Connection } from './connection.js';

/** What one run of a transaction step decided. */
export type Step<R> =
  /** Store `next` (null = remove the node) and report `result`. */
  | { next: unknown; result: R }
  /** Leave the node as it is and report `result`. */
  | { keep: true; result: R }
  /** Leave the node as it is, without asking the server (only for best-effort housekeeping). */
  | { skip: true; result: R };

/** A step: what to do with the node's current value at server time `now`. Throwing refuses. */
export type StepFn<R> = (current: unknown, now: number) => Step<R>;

type Outcome<R> = { step: Step<R> } | { error: unknown };

/** Runs `fn` as a transaction on `path`; resolves with its result or rejects with what it threw. */
export async function runTransaction<R>(connection: Connection, path: string, fn: StepFn<R>): Promise<R> {
  const ref = connection.ref(path);
  const backoff = new Backoff(2, 100);
  const started = performance.now();
  for (;;) {
    let outcome: Outcome<R> | undefined;
    const update = (current: unknown): unknown => {
      try {
        const step = fn(current, connection.now());
        outcome = { step };
        if ('next' in step) return step.next;
        return 'skip' in step ? undefined : current;
      } catch (error) {
        outcome = { error };
        return current;
      }
    };
    try {
      await connection.bounded(ref.transaction(update, undefined, false), `transaction on ${path}`);
    } catch (error) {
      if (isStateError(error)) throw error;
      if (error instanceof Error && error.message === 'maxretry') {
        if (performance.now() - started >= connection.timeoutMs) throw new TimeoutError(`transaction on ${path} (contended)`, connection.timeoutMs);
        await sleep(backoff.next());
        continue;
      }
      throw new BackendUnavailableError('firebase', `${connection.target}`, `transaction on ${path} failed: ${String(error)}`, {
        cause: error,
      });
    }
    if (!outcome) throw new Error(`firebase transaction on ${path} completed without running`);
    if ('error' in outcome) throw outcome.error;
    return outcome.step.result;
  }
}
