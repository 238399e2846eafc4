/**
 * Multi-node atomic steps (multi-key commits, fenced writes) whose cost depends on the nodes they
 * touch, not on the namespace, and the rule every single-node step follows around them.
 *
 * The Realtime Database's only atomic step is a transaction on ONE node. A commit over several
 * nodes (its read and written entries; for a fenced write, the entry and the lock node) runs:
 *
 * 1. **mark**: a transaction on each node, in sorted path order (the first alone, then the rest
 *    together), that checks it (the version the commit read, the lease the fence names), computes
 *    the node's final content, and sets the marker `k: { i: id, x: lease end }`. A node that
 *    already has another commit's marker is not taken: the commit releases what it took, waits
 *    (or recovers that commit once its lease passed, below) and marks again, within a deadline.
 * 2. **decide**: a transaction on the intent record `t/<id>` that creates `{ s: 'c', w }` (the
 *    final content of every node) only if the record is absent. This single-node step is the
 *    commit point: afterwards the commit happens, whatever crashes.
 * 3. **apply**: on each node, a transaction that stores the final content only while the node
 *    still carries this commit's marker (all in parallel).
 * 4. **forget**: the intent record is removed.
 *
 * Every other change of an entry or lock node (write, delete, increment, lock operations, reads
 * and lists too) first looks for a marker ({@link Nodes.onNode}): a marked node is not changed
 * (nor read) until the commit ends; once the marker's lease has passed, any client **recovers**
 * it: a transaction on `t/<id>` turns an absent record into `{ s: 'a' }` (aborted), so the owner
 * can no longer decide; a committed record is rolled forward (step 3 with the record's content,
 * then step 4), an aborted one releases the marker it met. The owner that finds its record
 * aborted releases its markers, removes the record and fails with `ConflictError` (core re-runs
 * the transaction).
 *
 * Why it holds (README "How a multi-key commit works"): while every node of the commit carries
 * its marker, nothing else changes them, so the checks of step 1 still hold at the commit point;
 * the decision is one atomic step that either the owner or a recoverer wins; the apply and the
 * recovery are conditional on the marker, so a late or repeated apply never overwrites a later
 * change; the versions written were computed under the marker from the node itself, so they
 * never repeat. None of this depends on clocks: the lease only decides when others stop waiting.
 */
import { randomBytes } from 'node:crypto';
import { Backoff, ConflictError, TimeoutError, sleep } from '@agent-state/core';
import type { Connection } from './connection.js';
import { MarkedError, splitMarker, unmarked, withMarker, type Marker } from './codec.js';
import type { NamespacePaths } from './layout.js';
import { runTransaction, type StepFn } from './run-transaction.js';

/** How long a commit's markers hold others off; a dead owner's commit is recovered after it. */
export const MARKER_LEASE_MS = 2_000;

/** One node of a commit: where it is and what the commit checks and stores there. */
export interface NodeOp<R = unknown> {
  /** The key or resource, for messages. */
  key: string;
  /** Path from the database root. */
  path: string;
  /** Where the node is, for `CorruptDataError`. */
  location: string;
  /**
   * Runs under the marker: checks the node (`body` is its content without marker; throwing
   * refuses the commit) and gives its final content (`undefined`: the node stays as it is).
   */
  plan(body: unknown, now: number): { final: unknown; result: R };
}

interface Intent {
  /** `c` committed, `a` aborted. */
  s: 'c' | 'a';
  /** When it was decided (server time). */
  d: number;
  /** JSON text of the final content per node, `[path, node | null][]`; only on a committed record. */
  w?: string;
}

/** A fresh intent id: a legal child name that never parses as an integer. */
function newId(): string {
  return `c${randomBytes(9).toString('base64url')}`;
}

/** The entry and lock nodes of one namespace, with the marker rule applied to every step. */
export class Nodes {
  readonly #connection: Connection;
  readonly #paths: NamespacePaths;

  constructor(connection: Connection, paths: NamespacePaths) {
    this.#connection = connection;
    this.#paths = paths;
  }

  /** How long a caller waits on other commits' markers in all before giving up. */
  get waitMs(): number {
    return Math.max(this.#connection.timeoutMs, 2 * MARKER_LEASE_MS);
  }

  /**
   * A transaction on one entry or lock node that `fn` makes; `fn` must call {@link unmarked} on
   * what it gets (it throws `MarkedError` on another commit's marker). A marked node is waited
   * for, or its commit recovered, then `fn` runs again; `TimeoutError` after the wait bound.
   */
  async onNode<R>(path: string, fn: StepFn<R>): Promise<R> {
    const started = performance.now();
    const backoff = new Backoff(1, 50);
    for (;;) {
      try {
        return await runTransaction(this.#connection, path, fn);
      } catch (error) {
        if (!(error instanceof MarkedError)) throw error;
        if (performance.now() - started >= this.waitMs) throw new TimeoutError(`change of ${path} (held by commit ${error.marker.i})`, this.waitMs);
        await this.settle(error, backoff);
      }
    }
  }

  /**
   * What a client does about another commit's marker on `error.path`: waits a little while its
   * lease runs, else recovers the commit (rolls it forward or aborts it).
   */
  async settle(error: MarkedError, backoff: Backoff): Promise<void> {
    if (this.#connection.now() < error.marker.x) {
      await sleep(backoff.next());
      return;
    }
    await this.#recover(error.path, error.marker);
  }

  /**
   * Runs the commit protocol over `ops` (module comment); resolves with each op's plan result.
   * A single op is one plain transaction on its node. `ConflictError` when a check refuses,
   * when a recoverer aborted it meanwhile, or when markers of others held it off too long.
   */
  async commit(ops: readonly NodeOp[]): Promise<unknown[]> {
    if (ops.length === 1) {
      const op = ops[0]!;
      const result = await this.onNode(op.path, (raw, now) => {
        const planned = op.plan(unmarked(raw, op.path, op.location), now);
        return planned.final === undefined ? { keep: true, result: planned.result } : { next: planned.final, result: planned.result };
      });
      return [result];
    }
    const sorted = [...ops].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const id = newId();
    const finals = await this.#markAll(id, sorted);
    const decided = await runTransaction<Intent>(this.#connection, this.#paths.intent(id), (raw, now) => {
      if (raw !== null && raw !== undefined) return { keep: true, result: raw as Intent };
      const intent: Intent = { s: 'c', d: now, w: JSON.stringify(sorted.map((op, i) => [op.path, finals[i]!.final ?? null])) };
      return { next: intent, result: intent };
    });
    if (decided.s !== 'c') {
      // A recoverer aborted it (our leases had passed): nothing was applied anywhere.
      await Promise.all(sorted.map((op) => this.#release(op.path, id)));
      await this.#forget(id);
      throw new ConflictError(sorted[0]!.key, 'absent', 'absent', 'the commit was recovered by another client before it could decide; retry');
    }
    await this.#applyAll(id, sorted.map((op, i) => [op.path, finals[i]!.final ?? null] as const));
    await this.#forget(id);
    // Results in the caller's order.
    return ops.map((op) => finals[sorted.indexOf(op)]!.result);
  }

  /** Step 1: marks every node (sorted; the first alone), retrying around others' markers. */
  async #markAll(id: string, sorted: readonly NodeOp[]): Promise<{ final: unknown; result: unknown }[]> {
    const started = performance.now();
    const backoff = new Backoff(1, 50);
    for (;;) {
      const taken: string[] = [];
      const mark = async (op: NodeOp): Promise<{ final: unknown; result: unknown }> => {
        const planned = await runTransaction(this.#connection, op.path, (raw, now) => {
          const body = unmarked(raw, op.path, op.location, id);
          const plan = op.plan(body, now);
          const marker: Marker = { i: id, x: now + MARKER_LEASE_MS };
          return { next: withMarker(body, marker), result: plan };
        });
        taken.push(op.path);
        return planned;
      };
      try {
        const first = await mark(sorted[0]!);
        const rest = await Promise.allSettled(sorted.slice(1).map(mark));
        const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        return [first, ...rest.map((r) => (r as PromiseFulfilledResult<{ final: unknown; result: unknown }>).value)];
      } catch (error) {
        await Promise.all(taken.map((path) => this.#release(path, id)));
        if (!(error instanceof MarkedError)) throw error;
        if (performance.now() - started >= this.waitMs) {
          const key = sorted.find((op) => op.path === error.path)?.key ?? error.path;
          throw new ConflictError(key, 'absent', 'absent', `held by commit ${error.marker.i} for ${this.waitMs} ms; retry`);
        }
        await this.settle(error, backoff);
      }
    }
  }

  /** Step 3: stores each final content where the node still carries the commit's marker. */
  async #applyAll(id: string, finals: readonly (readonly [string, unknown])[]): Promise<void> {
    await Promise.all(
      finals.map(([path, final]) =>
        runTransaction(this.#connection, path, (raw) => {
          const { body, marker } = splitMarker(raw, path);
          if (marker?.i !== id) return { keep: true, result: undefined };
          return { next: final ?? body, result: undefined };
        }),
      ),
    );
  }

  /** Removes the commit's marker from `path` if it is still there; the content stays. */
  async #release(path: string, id: string): Promise<void> {
    await runTransaction(this.#connection, path, (raw) => {
      const { body, marker } = splitMarker(raw, path);
      return marker?.i === id ? { next: body, result: undefined } : { keep: true, result: undefined };
    });
  }

  async #forget(id: string): Promise<void> {
    await this.#connection.bounded(this.#connection.ref(this.#paths.intent(id)).remove(), 'commit');
  }

  /** A marker whose lease passed: decide its commit for it (abort if undecided), then finish it. */
  async #recover(path: string, marker: Marker): Promise<void> {
    const intent = await runTransaction<Intent | null>(this.#connection, this.#paths.intent(marker.i), (raw, now) => {
      if (raw === null || raw === undefined) return { next: { s: 'a', d: now } satisfies Intent, result: null };
      return { keep: true, result: raw as Intent };
    });
    if (intent?.s === 'c' && typeof intent.w === 'string') {
      await this.#applyAll(marker.i, JSON.parse(intent.w) as [string, unknown][]);
      await this.#forget(marker.i);
    } else {
      // Aborted (now or before): the marker goes, the node keeps its content. The record stays,
      // so the owner, if it still runs, cannot decide (it removes the record when it sees it).
      await this.#release(path, marker.i);
    }
  }
}
