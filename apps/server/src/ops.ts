/**
 * Everything the server does to the store, over the public `StateClient` API only (never
 * `state.backend`). The second-wave client API (lockMany, releaseLease, extendLease, waitFor,
 * blocking dequeue, stateless settle, counts, logs, subscription `after`) is being added to core
 * at the same time as this package; each call below uses it when the client has it and a
 * portable path over the first-wave API otherwise, so the server runs on either.
 */
import {
  InvalidValueError,
  LockLostError,
  LockTimeoutError,
  NotSupportedError,
  TimeoutError,
  assertKey,
  assertPositive,
  sleep,
  type Entry,
  type JsonValue,
  type Lock,
  type LockLease,
  type StateClient,
} from '@agent-state/core';
import { hasCode } from './errors.js';

/** A lease as the HTTP API and MCP hand it out: enough to extend, release or fence statelessly. */
export interface Fence {
  resource: string;
  token: number;
  owner: string;
  expiresAt: number;
}

/** A claimed job as the API returns it. */
export interface ClaimedJobView {
  id: string;
  leaseId: string;
  payload: JsonValue;
  priority: number;
  sequence: number;
  attempts: number;
}

/** One log record as the API returns it. */
export interface LogRecordView {
  seq: number;
  at: number;
  record: JsonValue;
}

// The second-wave surface, typed loosely so this file builds against core before and after it lands.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const POLL_MIN_MS = 10;
const POLL_MAX_MS = 200;

function leaseOf(lock: Lock | LockLease | Fence): Fence {
  return { resource: lock.resource, token: lock.token, owner: lock.owner, expiresAt: lock.expiresAt };
}

/** Checks a `{ resource, token, owner }` from a request; typed error naming the field otherwise. */
export function parseFence(value: unknown, field: string): Fence {
  const v = value as Partial<Fence> | null | undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidValueError(field, value, 'expected { resource, token, owner } as returned by a lock call');
  assertKey(v.resource, `${field}.resource`);
  if (typeof v.token !== 'number' || !Number.isInteger(v.token) || v.token < 1) throw new InvalidValueError(`${field}.token`, v.token, 'expected a positive whole number');
  if (typeof v.owner !== 'string' || v.owner.length === 0 || v.owner.length > 512) throw new InvalidValueError(`${field}.owner`, v.owner, 'expected the owner string of the lease');
  const expiresAt = typeof v.expiresAt === 'number' && Number.isFinite(v.expiresAt) ? v.expiresAt : Date.now() + 3_600_000;
  return { resource: v.resource, token: v.token, owner: v.owner, expiresAt };
}

/** A wait that ends at its deadline, on `signal`, or when `poll` returns something. */
async function pollUntil<T>(deadline: number, signal: AbortSignal | undefined, poll: () => Promise<T | null>): Promise<T | null> {
  let delay = POLL_MIN_MS;
  for (;;) {
    const result = await poll();
    if (result !== null) return result;
    const left = deadline - Date.now();
    if (left <= 0 || signal?.aborted) return null;
    await sleep(Math.min(delay, left));
    delay = Math.min(POLL_MAX_MS, delay * 2);
  }
}

/** The operations of the HTTP API and the MCP tools, on one client. */
export class Ops {
  /** Locks this process took through the first-wave API (only until core's releaseLease lands). */
  readonly #heldLocks = new Map<string, Lock>();

  constructor(readonly state: StateClient) {}

  get #s(): Any {
    return this.state as Any;
  }

  // ----- keys -----------------------------------------------------------------------------

  read(key: string): Promise<Entry | null> {
    return this.state.read(key);
  }

  /** Resolves with the entry once it exists with version ≥ minVersion; `TimeoutError` at the deadline. */
  async waitFor(key: string, minVersion: number | undefined, timeoutMs: number, signal?: AbortSignal): Promise<Entry> {
    assertKey(key);
    assertPositive(timeoutMs, 'timeoutMs', { allowZero: true });
    const ok = (e: Entry | null) => e !== null && (minVersion === undefined || e.version >= minVersion);
    if (typeof this.#s.waitFor === 'function') {
      const entry = (await this.#s.waitFor(key, ok, { timeoutMs, ...(signal && { signal }) })) as Entry | null;
      if (entry) return entry;
      throw new TimeoutError(`waiting for ${JSON.stringify(key)}`, timeoutMs);
    }
    const entry = await pollUntil(Date.now() + timeoutMs, signal, async () => {
      const e = await this.state.read(key);
      return ok(e) ? e : null;
    });
    if (!entry) throw new TimeoutError(`waiting for ${JSON.stringify(key)}`, timeoutMs);
    return entry;
  }

  // ----- locks ----------------------------------------------------------------------------

  /** All of `resources` or none (sorted order, so two overlapping requests cannot deadlock). */
  async lockMany(resources: string[], options: { ttlMs?: number; waitMs?: number }): Promise<Fence[]> {
    if (!Array.isArray(resources) || resources.length === 0) throw new InvalidValueError('resources', resources, 'expected a non-empty array of resource keys');
    resources.forEach((r, i) => assertKey(r, `resources[${i}]`));
    const unique = [...new Set(resources)].sort();
    if (typeof this.#s.lockMany === 'function') {
      const locks = (await this.#s.lockMany(unique, options)) as Lock[];
      return locks.map(leaseOf);
    }
    const deadline = Date.now() + (options.waitMs ?? 10_000);
    const taken: Lock[] = [];
    try {
      for (const resource of unique) {
        const waitMs = Math.max(0, deadline - Date.now());
        taken.push(await this.state.lock(resource, { ...(options.ttlMs !== undefined && { ttlMs: options.ttlMs }), waitMs }));
      }
    } catch (error) {
      await Promise.all(taken.map((l) => l.release().catch(() => undefined)));
      throw error;
    }
    for (const lock of taken) this.#heldLocks.set(fenceId(lock), lock);
    return taken.map(leaseOf);
  }

  async lock(resource: string, options: { ttlMs?: number; waitMs?: number }): Promise<Fence> {
    assertKey(resource, 'resource');
    const [lease] = await this.lockMany([resource], options);
    return lease as Fence;
  }

  /** Frees a lease by `{ resource, token, owner }`: `LockLostError` if it is not held any more. */
  async release(fence: Fence): Promise<void> {
    if (typeof this.#s.releaseLease === 'function') {
      await this.#s.releaseLease({ resource: fence.resource, token: fence.token, owner: fence.owner });
      return;
    }
    const lock = this.#heldLocks.get(fenceId(fence));
    if (!lock) throw new LockLostError(fence.resource, fence.token, 'not held (or taken through another server)');
    await lock.release();
    this.#heldLocks.delete(fenceId(fence));
  }

  async extend(fence: Fence, ttlMs: number): Promise<Fence> {
    assertPositive(ttlMs, 'ttlMs');
    if (typeof this.#s.extendLease === 'function') {
      return leaseOf((await this.#s.extendLease(fence, ttlMs)) as LockLease);
    }
    const lock = this.#heldLocks.get(fenceId(fence));
    if (!lock) throw new LockLostError(fence.resource, fence.token, 'not held (or taken through another server)');
    await lock.extend(ttlMs);
    return leaseOf(lock);
  }

  // ----- queues ---------------------------------------------------------------------------

  async claim(queue: string, options: { leaseMs?: number; waitMs?: number; signal?: AbortSignal }): Promise<ClaimedJobView | null> {
    const q = this.state.queue(queue) as Any;
    const leaseMs = options.leaseMs;
    assertPositive(options.waitMs, 'waitMs', { allowZero: true });
    const view = (job: Any): ClaimedJobView | null =>
      job
        ? { id: job.id, leaseId: job.leaseId, payload: job.payload, priority: job.priority, sequence: job.sequence, attempts: job.attempts }
        : null;
    const once = async () => view(await q.dequeue(leaseMs === undefined ? undefined : { leaseMs }));
    const waitMs = options.waitMs ?? 0;
    if (waitMs === 0) return once();
    if (this.#blockingDequeue !== false) {
      try {
        const job = await q.dequeue({ ...(leaseMs !== undefined && { leaseMs }), waitMs, ...(options.signal && { signal: options.signal }) });
        this.#blockingDequeue = true;
        return view(job);
      } catch (error) {
        if (!isUnknownOption(error)) throw error;
        this.#blockingDequeue = false; // first-wave core: poll below
      }
    }
    return pollUntil(Date.now() + waitMs, options.signal, once);
  }

  #blockingDequeue: boolean | undefined;
  #blockingReceive: boolean | undefined;

  async settle(queue: string, id: string, leaseId: string, action: { kind: 'ack' } | { kind: 'nack'; delayMs?: number }): Promise<boolean> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw new InvalidValueError('id', id, 'expected a job id');
    if (typeof leaseId !== 'string' || leaseId.length === 0 || leaseId.length > 256) throw new InvalidValueError('leaseId', leaseId, 'expected the leaseId of the claim');
    const q = this.state.queue(queue) as Any;
    if (action.kind === 'nack') assertPositive(action.delayMs, 'delayMs', { allowZero: true });
    if (typeof q.ack === 'function') {
      return action.kind === 'ack' ? q.ack(id, leaseId) : q.nack(id, leaseId, action.delayMs === undefined ? undefined : { delayMs: action.delayMs });
    }
    return q.settle(id, leaseId, action.kind === 'ack' ? null : (action.delayMs ?? 0));
  }

  async queueInfo(queue: string): Promise<{ name: string; waiting: number; inFlight: number; delayed: number; deadLetters: number }> {
    const q = this.state.queue(queue) as Any;
    if (typeof q.counts === 'function') {
      const c = await q.counts();
      return { name: queue, waiting: c.waiting, inFlight: c.inFlight, delayed: c.delayed, deadLetters: c.dead };
    }
    const [size, dead] = await Promise.all([q.size() as Promise<number>, q.deadLetters() as Promise<unknown[]>]);
    return { name: queue, waiting: size, inFlight: 0, delayed: 0, deadLetters: dead.length };
  }

  // ----- mailboxes ------------------------------------------------------------------------

  async receive(agentId: string, options: { from?: string; limit?: number; waitMs?: number; signal?: AbortSignal }): Promise<Any[]> {
    const box = this.state.mailbox(agentId) as Any;
    const filters = { ...(options.from !== undefined && { from: options.from }), ...(options.limit !== undefined && { limit: options.limit }) };
    const waitMs = options.waitMs ?? 0;
    assertPositive(waitMs, 'waitMs', { allowZero: true });
    if (waitMs === 0) return box.receive(filters);
    if (this.#blockingReceive !== false) {
      try {
        const messages = await box.receive({ ...filters, waitMs, ...(options.signal && { signal: options.signal }) });
        this.#blockingReceive = true;
        return messages;
      } catch (error) {
        if (!isUnknownOption(error)) throw error;
        this.#blockingReceive = false;
      }
    }
    const got = await pollUntil(Date.now() + waitMs, options.signal, async () => {
      const messages = (await box.receive(filters)) as Any[];
      return messages.length > 0 ? messages : null;
    });
    return got ?? [];
  }

  async ack(agentId: string, ids: unknown): Promise<number> {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 256)) {
      throw new InvalidValueError('ids', ids, 'expected an array of message ids');
    }
    const box = this.state.mailbox(agentId) as Any;
    if (typeof box.ack !== 'function') throw new NotSupportedError(this.state.backendName, 'mailbox ack (core without the second-wave mailbox)');
    const result = await box.ack(ids);
    return typeof result === 'number' ? result : ids.length;
  }

  // ----- logs -----------------------------------------------------------------------------

  #log(name: string): Any {
    if (typeof this.#s.log !== 'function') throw new NotSupportedError(this.state.backendName, 'logs (core without state.log)');
    return this.#s.log(name);
  }

  async append(name: string, record: JsonValue): Promise<{ seq: number; at: number }> {
    return this.#log(name).append(record);
  }

  async readLog(name: string, after: number, limit: number): Promise<LogRecordView[]> {
    const out: LogRecordView[] = [];
    for await (const r of this.#log(name).read({ after, limit })) {
      out.push({ seq: r.seq, at: r.at, record: r.record });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Calls `onRecord` for every record after `after` (retained ones first) until `signal` aborts. */
  async followLog(name: string, after: number | undefined, signal: AbortSignal, onRecord: (r: LogRecordView) => void): Promise<void> {
    const log = this.#log(name);
    const iterator = log.follow({ ...(after !== undefined && { after }), signal }) as AsyncIterable<LogRecordView>;
    try {
      for await (const r of iterator) onRecord({ seq: r.seq, at: r.at, record: r.record });
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  // ----- channels -------------------------------------------------------------------------

  /** Subscribes; `after` replays retained messages when core supports it. Returns the stop function. */
  async subscribe(
    channel: string,
    after: number | undefined,
    onMessage: (m: { sequence: number; message: JsonValue; publishedAt: number }) => void,
  ): Promise<() => Promise<void>> {
    const handler = (message: JsonValue, meta: Any) => onMessage({ sequence: meta.sequence, message, publishedAt: meta.publishedAt });
    let sub: Any;
    try {
      sub = await this.#s.subscribe(channel, handler, after === undefined ? undefined : { after });
    } catch (error) {
      if (after === undefined || !isUnknownOption(error)) throw error;
      sub = await this.#s.subscribe(channel, handler); // first-wave core: no replay
    }
    return async () => {
      if (typeof sub === 'function') await sub();
      else await sub.close();
    };
  }
}

/** The first-wave core refuses options it does not know (`options.waitMs: unknown option`). */
function isUnknownOption(error: unknown): boolean {
  return hasCode(error, 'INVALID_VALUE') && /^options\.(waitMs|signal|after)\b/.test((error as Error).message) && /unknown option/.test((error as Error).message);
}

function fenceId(f: { resource: string; token: number; owner: string }): string {
  return `${f.resource}\u0000${f.token}\u0000${f.owner}`;
}

export { LockTimeoutError };
