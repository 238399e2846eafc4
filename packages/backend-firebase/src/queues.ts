/**
 * Native queues on the Realtime Database.
 *
 * One node per queue (`/<ns>~q/~<queue>`, see layout.ts):
 *
 * ```
 * n                 last sequence (a counter, transaction on enqueue)
 * j/<id>            the job: { j: json, p: priority, s: sequence, a: attempts, at: enqueuedAt,
 *                   st: 'w' | 'd' | 'f' | 'x' (waiting, delayed, in flight, dead), vis?: visible
 *                   at / lease end, lid?, o?: the current claim, e: epoch, t: last change }
 * r/<1e6-p>-<seq>   waiting index  -> epoch    (key order = claim order: priority desc, seq asc)
 * d/<time>-<id>     delayed index  -> epoch    (key order = time)
 * f/<time>-<id>     in-flight index -> epoch   (key order = lease end)
 * ```
 *
 * The job node is the truth; the indexes say where to look. Every change of a job is ONE
 * transaction on its node, which the server accepts only if the node is unchanged since the
 * client saw it: that is what decides the winner of a claim (16 claimers, one job: one accepted
 * transaction, 15 re-runs that see `st: 'f'`). Each change bumps the job's epoch `e`; right
 * after, the client adds the index entry of the new state (value = new epoch) and removes the old
 * one with a transaction that removes it only while it still holds the old epoch, so a slow
 * client can never remove an entry that a later change re-added. A client that dies between the
 * two leaves an entry whose epoch is not the job's: whoever meets it later (a claim walking `r`,
 * a claim returning due `d`/`f` entries) repairs the indexes from the job node, once the change
 * is older than {@link RECOVER_MS} (until then the changer is presumably alive and finishing).
 *
 * A claim: (1) returns at most {@link DUE_PER_CLAIM} due delayed jobs and expired leases to
 * waiting, taken from the start of `d` and `f` (key order = time, so "due" is a prefix: cheap
 * when none are due); (2) takes the first entry of `r` with one job transaction (skipping stale
 * entries). Neither step reads the in-flight or delayed jobs that are not due, so its cost does
 * not grow with the backlog or the number in flight. The client keeps the queue node mirrored by
 * a listener (mirror.ts), so transactions start from current data (one round trip) and listeners
 * of `notify` are woken by the same pushes.
 */
import { randomBytes } from 'node:crypto';
import { CorruptDataError, type ClaimedJob, type NativeQueues, type QueueCounts, type QueueJobRecord, type SettleAction } from '@agent-state/core';
import type { DataSnapshot } from 'firebase-admin/database';
import type { Connection } from './connection.js';
import type { Mirrors } from './mirror.js';
import { childName, keyOfChild, pad, type NativePaths } from './layout.js';
import { runTransaction } from './run-transaction.js';

/** Due delayed jobs and expired leases returned to waiting per claim, at most (each index). */
export const DUE_PER_CLAIM = 10;
/** An index entry whose job changed less than this long ago is left to the client that changed it. */
export const RECOVER_MS = 5_000;
/** Entries of `r` one claim tries before it gives up for this call (stale entries and lost races). */
const CANDIDATES_PER_CLAIM = 64;

type JobState = 'w' | 'd' | 'f' | 'x';

interface JobNode {
  j: string;
  p: number;
  s: number;
  a: number;
  at: number;
  st: JobState;
  vis?: number;
  lid?: string;
  o?: string;
  e: number;
  t: number;
}

type Index = 'r' | 'd' | 'f';

/** What one job transaction did: moved the job from `before` to `after` (null = deleted), or found it not as expected. */
type Change<K extends string> = { kind: K; before: JobNode; after: JobNode } | { kind: 'stale'; job: JobNode | null };
type Settled = { before: JobNode; after: JobNode | null } | null;

function asJob(raw: unknown, location: string): JobNode | null {
  if (raw === null || raw === undefined) return null;
  const j = raw as Partial<JobNode>;
  if (
    typeof raw !== 'object' ||
    typeof j.j !== 'string' ||
    typeof j.p !== 'number' ||
    typeof j.s !== 'number' ||
    typeof j.a !== 'number' ||
    typeof j.e !== 'number' ||
    !['w', 'd', 'f', 'x'].includes(j.st as string)
  ) {
    throw new CorruptDataError(location, 'not an agent-state job node');
  }
  return raw as JobNode;
}

const readyKey = (p: number, s: number): string => `${pad(1_000_000 - p, 7)}-${pad(s, 15)}`;
const timeKey = (time: number, id: string): string => `${pad(Math.max(0, Math.floor(time)), 15)}-${id}`;
const timeOfKey = (key: string): number => Number(key.slice(0, 15));
const jobIdOf = (s: number): string => `j${s}`;

/** The index entry a job in its current state should have, if any. */
function indexOf(id: string, job: JobNode): { index: Index; key: string } | null {
  if (job.st === 'w') return { index: 'r', key: readyKey(job.p, job.s) };
  if (job.st === 'd' || job.st === 'f') return { index: job.st, key: timeKey(job.vis ?? 0, id) };
  return null;
}

function stateOf(job: JobNode, now: number): QueueJobRecord['state'] {
  if (job.st === 'x') return 'dead';
  if (job.st === 'w' || (job.vis ?? 0) <= now) return 'waiting';
  return job.st === 'f' ? 'in-flight' : 'delayed';
}

export class FirebaseQueues implements NativeQueues {
  readonly #connection: Connection;
  readonly #paths: NativePaths;
  readonly #mirrors: Mirrors;
  readonly #registered = new Set<string>();

  constructor(connection: Connection, paths: NativePaths, mirrors: Mirrors) {
    this.#connection = connection;
    this.#paths = paths;
    this.#mirrors = mirrors;
  }

  /** Path of a queue's node from the database root. */
  path(queue: string): string {
    return `${this.#paths.queues}/${childName(queue)}`;
  }

  /** The listener mirror of a queue (also what `notify.listen` uses). */
  mirror(queue: string): ReturnType<Mirrors['get']> {
    return this.#mirrors.get(this.path(queue));
  }

  async enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }> {
    const base = this.path(queue);
    await this.#register(queue);
    await this.mirror(queue).local();
    const sequence = await runTransaction(this.#connection, `${base}/n`, (raw) => {
      const last = typeof raw === 'number' ? raw : 0;
      return { next: last + 1, result: last + 1 };
    });
    const id = jobIdOf(sequence);
    const now = this.#connection.now();
    const delayed = (job.delayMs ?? 0) > 0;
    const node: JobNode = { j: job.json, p: job.priority, s: sequence, a: 0, at: now, st: delayed ? 'd' : 'w', e: 1, t: now };
    if (delayed) node.vis = now + job.delayMs!;
    const at = indexOf(id, node)!;
    // One multi-location update: the job and its index entry land together or not at all.
    await this.#update(base, { [`j/${id}`]: node, [`${at.index}/${at.key}`]: node.e });
    return { id, sequence };
  }

  async claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null> {
    const mirror = this.mirror(queue);
    let snapshot = await mirror.fresh();
    const now = this.#connection.now();
    let returned = false;
    for (const index of ['d', 'f'] as const) {
      for (const [key, epoch] of firstEntries(snapshot.child(index), DUE_PER_CLAIM, (k) => timeOfKey(k) <= now)) {
        returned = (await this.#returnDue(queue, index, key, epoch)) || returned;
      }
    }
    if (returned) snapshot = await mirror.local();
    const tried = new Set<string>();
    for (let round = 0; round < CANDIDATES_PER_CLAIM; ) {
      const candidates = firstEntries(snapshot.child('r'), CANDIDATES_PER_CLAIM, () => true).filter(([key]) => !tried.has(key));
      if (candidates.length === 0) return null;
      for (const [key, epoch] of candidates) {
        tried.add(key);
        round++;
        const claimed = await this.#claimOne(queue, key, epoch, options);
        if (claimed) return claimed;
        if (round >= CANDIDATES_PER_CLAIM) break;
      }
      snapshot = await mirror.local();
    }
    return null;
  }

  async settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    await this.mirror(queue).local();
    const location = `${this.#connection.target}/${this.path(queue)}/j/${id}`;
    const outcome = await runTransaction<Settled>(this.#connection, `${this.path(queue)}/j/${id}`, (raw, now) => {
      const job = asJob(raw, location);
      if (!job || job.st !== 'f' || job.lid !== leaseId) return { keep: true, result: null };
      const before = { ...job };
      if (action.kind === 'ack') return { next: null, result: { before, after: null } };
      const next: JobNode = { ...job, e: job.e + 1, t: now };
      if (action.kind === 'extend') {
        next.vis = now + action.leaseMs;
      } else {
        delete next.lid;
        delete next.o;
        if (action.delayMs > 0) {
          next.st = 'd';
          next.vis = now + action.delayMs;
        } else {
          next.st = 'w';
          delete next.vis;
        }
      }
      return { next, result: { before, after: next } };
    });
    if (!outcome) return false;
    await this.#moved(queue, id, outcome.before, outcome.after);
    return true;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const snapshot = await this.mirror(queue).fresh();
    const now = this.#connection.now();
    const counts: QueueCounts = { waiting: 0, inFlight: 0, delayed: 0, dead: 0 };
    this.#eachJob(queue, snapshot, (_id, job) => {
      const state = stateOf(job, now);
      if (state === 'in-flight') counts.inFlight++;
      else counts[state]++;
    });
    return counts;
  }

  async jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]> {
    const snapshot = await this.mirror(queue).fresh();
    const now = this.#connection.now();
    const out: QueueJobRecord[] = [];
    this.#eachJob(queue, snapshot, (id, job) => {
      const state = stateOf(job, now);
      if (options.state !== undefined && state !== options.state) return;
      if (options.afterSequence !== undefined && job.s <= options.afterSequence) return;
      const record: QueueJobRecord = { id, json: job.j, priority: job.p, sequence: job.s, attempts: job.a, enqueuedAt: job.at, state };
      if ((state === 'delayed' || state === 'in-flight') && job.vis !== undefined) record.visibleAt = job.vis;
      out.push(record);
    });
    return out.sort((a, b) => a.sequence - b.sequence).slice(0, options.limit);
  }

  async reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean> {
    await this.mirror(queue).local();
    const location = `${this.#connection.target}/${this.path(queue)}/j/${id}`;
    const outcome = await runTransaction<Settled>(this.#connection, `${this.path(queue)}/j/${id}`, (raw, now) => {
      const job = asJob(raw, location);
      if (!job || job.st !== 'x') return { keep: true, result: null };
      if (action === 'delete') return { next: null, result: { before: job, after: null } };
      const next: JobNode = { ...job, st: 'w', a: 0, e: job.e + 1, t: now };
      delete next.vis;
      return { next, result: { before: job, after: next } };
    });
    if (!outcome) return false;
    await this.#moved(queue, id, outcome.before, outcome.after);
    return true;
  }

  async names(): Promise<string[]> {
    const registry = await this.#mirrors.get(`${this.#paths.names}/q`).fresh();
    const names: string[] = [];
    registry.forEach((child) => {
      const name = child.key === null ? undefined : keyOfChild(child.key);
      if (name !== undefined) names.push(name);
    });
    const held: string[] = [];
    for (const name of names.sort()) {
      const snapshot = await this.mirror(name).fresh();
      if (snapshot.child('j').hasChildren()) held.push(name);
    }
    return held;
  }

  /** Tries to claim the job behind waiting-index entry `key`; null when it is not claimable. */
  async #claimOne(
    queue: string,
    key: string,
    epoch: unknown,
    options: { leaseMs: number; owner: string; maxAttempts?: number },
  ): Promise<ClaimedJob | null> {
    const id = jobIdOf(Number(key.slice(8)));
    const path = `${this.path(queue)}/j/${id}`;
    const location = `${this.#connection.target}/${path}`;
    const leaseId = randomBytes(8).toString('hex');
    const outcome = await runTransaction<Change<'dead' | 'claimed'>>(this.#connection, path, (raw, now) => {
      const job = asJob(raw, location);
      if (!job || job.st !== 'w' || job.e !== epoch) return { keep: true, result: { kind: 'stale', job } };
      if (options.maxAttempts !== undefined && job.a >= options.maxAttempts) {
        const next: JobNode = { ...job, st: 'x', e: job.e + 1, t: now };
        return { next, result: { kind: 'dead', before: job, after: next } };
      }
      const next: JobNode = { ...job, st: 'f', a: job.a + 1, lid: leaseId, o: options.owner, vis: now + options.leaseMs, e: job.e + 1, t: now };
      return { next, result: { kind: 'claimed', before: job, after: next } };
    });
    if (outcome.kind === 'stale') {
      await this.#stale(queue, 'r', key, epoch, id, outcome.job);
      return null;
    }
    await this.#moved(queue, id, outcome.before, outcome.after);
    if (outcome.kind === 'dead') return null;
    const job = outcome.after;
    return {
      id,
      json: job.j,
      priority: job.p,
      sequence: job.s,
      attempts: job.a,
      leaseId,
      leaseUntil: job.vis!,
      enqueuedAt: job.at,
    };
  }

  /** Returns a due delayed job or an expired lease (index entry `key`) to waiting. */
  async #returnDue(queue: string, index: 'd' | 'f', key: string, epoch: unknown): Promise<boolean> {
    const id = key.slice(16);
    const path = `${this.path(queue)}/j/${id}`;
    const location = `${this.#connection.target}/${path}`;
    const outcome = await runTransaction<Change<'moved'>>(this.#connection, path, (raw, now) => {
      const job = asJob(raw, location);
      if (!job || job.st !== index || job.e !== epoch || (job.vis ?? 0) > now) return { keep: true, result: { kind: 'stale', job } };
      const next: JobNode = { ...job, st: 'w', e: job.e + 1, t: now };
      delete next.vis;
      delete next.lid;
      delete next.o;
      return { next, result: { kind: 'moved', before: job, after: next } };
    });
    if (outcome.kind === 'stale') {
      await this.#stale(queue, index, key, epoch, id, outcome.job);
      return false;
    }
    await this.#moved(queue, id, outcome.before, outcome.after);
    return true;
  }

  /** After a job changed from `before` to `after`: add the new index entry, remove the old one. */
  async #moved(queue: string, id: string, before: JobNode, after: JobNode | null): Promise<void> {
    const base = this.path(queue);
    const from = indexOf(id, before);
    const to = after ? indexOf(id, after) : null;
    // Different index nodes, so both go out at once.
    await Promise.all([
      to ? this.#update(base, { [`${to.index}/${to.key}`]: after!.e }) : undefined,
      from && !(to && to.index === from.index && to.key === from.key) ? this.#removeEntry(queue, from.index, from.key, before.e) : undefined,
    ]);
  }

  /**
   * An index entry that does not match its job. A missing job: the entry goes. A job changed
   * long enough ago that its changer must be gone: its current entry is written, this one goes.
   * A recent change: left to the client making it.
   */
  async #stale(queue: string, index: Index, key: string, epoch: unknown, id: string, job: JobNode | null): Promise<void> {
    if (job && job.e === epoch && indexOf(id, job)?.index === index) return; // a due entry not due yet, or a live race
    if (job && this.#connection.now() - job.t < RECOVER_MS) return;
    if (job) {
      const current = indexOf(id, job);
      if (current) await this.#update(this.path(queue), { [`${current.index}/${current.key}`]: job.e });
    }
    await this.#removeEntry(queue, index, key, epoch);
  }

  /** Removes an index entry only while it still holds `epoch`. */
  async #removeEntry(queue: string, index: Index, key: string, epoch: unknown): Promise<void> {
    await runTransaction(this.#connection, `${this.path(queue)}/${index}/${key}`, (raw) =>
      raw === epoch ? { next: null, result: undefined } : { keep: true, result: undefined },
    );
  }

  #eachJob(queue: string, snapshot: DataSnapshot, fn: (id: string, job: JobNode) => void): void {
    const where = `${this.#connection.target}/${this.path(queue)}/j`;
    snapshot.child('j').forEach((child) => {
      const job = asJob(child.val(), `${where}/${child.key}`);
      if (job && child.key !== null) fn(child.key, job);
    });
  }

  async #register(queue: string): Promise<void> {
    if (this.#registered.has(queue)) return;
    await this.#update(`${this.#paths.names}/q`, { [childName(queue)]: true });
    this.#registered.add(queue);
  }

  async #update(path: string, values: Record<string, unknown>): Promise<void> {
    await this.#connection.bounded(this.#connection.ref(path).update(values), `update of ${path}`);
  }
}

/** The first `limit` children of an index node in key order that pass `keep` (stops at the first that does not). */
function firstEntries(node: DataSnapshot, limit: number, keep: (key: string) => boolean): [string, unknown][] {
  const out: [string, unknown][] = [];
  node.forEach((child) => {
    if (child.key === null || !keep(child.key) || out.length >= limit) return true;
    out.push([child.key, child.val()]);
    return false;
  });
  return out;
}
