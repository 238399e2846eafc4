/**
 * Everything the server does to the store beyond plain keys, over the public `StateClient` API
 * only (never `state.backend`): locks by `{ resource, token, owner }` (`lockMany`,
 * `releaseLease`, `extendLease`), claims settled by id + leaseId, blocking waits with an abort
 * signal, logs and channel replay. Nothing is kept in this process, so any server on the same
 * backend can settle what another one handed out.
 */
import {
  InvalidValueError,
  TimeoutError,
  assertKey,
  assertPositive,
  type Entry,
  type Job,
  type JsonValue,
  type Lock,
  type LockLease,
  type MailMessage,
  type StateClient,
} from '@agent-state/core';

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
  // A fence is checked by the backend against the held lease (owner and token), not by expiresAt.
  const expiresAt = typeof v.expiresAt === 'number' && Number.isFinite(v.expiresAt) ? v.expiresAt : Number.MAX_SAFE_INTEGER;
  return { resource: v.resource, token: v.token, owner: v.owner, expiresAt };
}

function jobView(job: Job | null): ClaimedJobView | null {
  return job && { id: job.id, leaseId: job.leaseId, payload: job.payload, priority: job.priority, sequence: job.sequence, attempts: job.attempts };
}

function checkId(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new InvalidValueError(field, value, 'expected a non-empty id');
}

/** The operations of the HTTP API and the MCP tools, on one client. */
export class Ops {
  constructor(readonly state: StateClient) {}

  // ----- keys -----------------------------------------------------------------------------

  /** The entry once `key` exists with version ≥ minVersion; `TimeoutError` at the deadline. */
  async waitFor(key: string, minVersion: number | undefined, timeoutMs: number, signal?: AbortSignal): Promise<Entry> {
    const entry = await this.state.waitFor(key, (e) => e !== null && (minVersion === undefined || e.version >= minVersion), {
      timeoutMs,
      ...(signal && { signal }),
    });
    if (!entry) throw new TimeoutError(`waiting for ${JSON.stringify(key)}`, timeoutMs);
    return entry;
  }

  // ----- locks ----------------------------------------------------------------------------

  /**
   * All of `resources` or none (`state.lockMany`: sorted order, so overlapping requests cannot
   * deadlock). Leases are taken `remote`: they belong to an agent elsewhere, so if this server
   * dies they end only by their ttl (server.md, "Leases taken through a server").
   */
  async lockMany(resources: string[], options: { ttlMs?: number; waitMs?: number }): Promise<Fence[]> {
    return (await this.state.lockMany(resources, { ...options, remote: true })).map(leaseOf);
  }

  async lock(resource: string, options: { ttlMs?: number; waitMs?: number }): Promise<Fence> {
    assertKey(resource, 'resource');
    return leaseOf(await this.state.lock(resource, { ...options, remote: true }));
  }

  /** Frees a lease by `{ resource, token, owner }`: `LockLostError` if it is not held any more. */
  release(fence: Fence): Promise<void> {
    return this.state.releaseLease(fence);
  }

  async extend(fence: Fence, ttlMs: number): Promise<Fence> {
    return leaseOf(await this.state.extendLease(fence, ttlMs));
  }

  // ----- queues ---------------------------------------------------------------------------

  /** One atomic claim; with `waitMs`, blocks on the backend's wakeups (no polling, no thread). */
  async claim(queue: string, options: { leaseMs?: number; waitMs?: number; signal?: AbortSignal }): Promise<ClaimedJobView | null> {
    const job = await this.state.queue(queue).dequeue({
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
      ...(options.waitMs !== undefined && options.waitMs > 0 && { waitMs: options.waitMs, ...(options.signal && { signal: options.signal }) }),
    });
    return jobView(job);
  }

  async settle(queue: string, id: unknown, leaseId: unknown, action: { kind: 'ack' } | { kind: 'nack'; delayMs?: number }): Promise<boolean> {
    checkId(id, 'id');
    checkId(leaseId, 'leaseId');
    const q = this.state.queue(queue);
    if (action.kind === 'ack') return q.ack(id, leaseId);
    assertPositive(action.delayMs, 'delayMs', { allowZero: true });
    return q.nack(id, leaseId, action.delayMs === undefined ? undefined : { delayMs: action.delayMs });
  }

  async queueInfo(queue: string): Promise<{ name: string; waiting: number; inFlight: number; delayed: number; deadLetters: number }> {
    const c = await this.state.queue(queue).counts();
    return { name: queue, waiting: c.waiting, inFlight: c.inFlight, delayed: c.delayed, deadLetters: c.dead };
  }

  // ----- mailboxes ------------------------------------------------------------------------

  receive(agentId: string, options: { from?: string; limit?: number; waitMs?: number; signal?: AbortSignal }): Promise<MailMessage[]> {
    return this.state.mailbox(agentId).receive({
      ...(options.from !== undefined && { from: options.from }),
      ...(options.limit !== undefined && { limit: options.limit }),
      ...(options.waitMs !== undefined && options.waitMs > 0 && { waitMs: options.waitMs, ...(options.signal && { signal: options.signal }) }),
    });
  }

  async ack(agentId: string, ids: unknown): Promise<number> {
    if (!Array.isArray(ids)) throw new InvalidValueError('ids', ids, 'expected an array of message ids');
    ids.forEach((id, i) => checkId(id, `ids[${i}]`));
    return this.state.mailbox(agentId).ack(ids as string[]);
  }

  // ----- logs -----------------------------------------------------------------------------

  append(name: string, record: JsonValue): Promise<{ seq: number; at: number }> {
    return this.state.log(name).append(record);
  }

  async readLog(name: string, after: number, limit: number): Promise<LogRecordView[]> {
    const out: LogRecordView[] = [];
    for await (const r of this.state.log(name).read({ after, limit })) out.push({ seq: r.seq, at: r.at, record: r.record });
    return out;
  }

  /** Calls `onRecord` for every record after `after` (default: only new ones) until `signal` aborts. */
  async followLog(name: string, after: number | undefined, signal: AbortSignal, onRecord: (r: LogRecordView) => void): Promise<void> {
    for await (const r of this.state.log(name).follow({ ...(after !== undefined && { after }), signal })) {
      onRecord({ seq: r.seq, at: r.at, record: r.record });
    }
  }

  // ----- channels -------------------------------------------------------------------------

  /**
   * Subscribes from now, or after `after` (retained messages first). `onEnd` is called if the
   * subscription fails. Returns the stop function.
   */
  async subscribe(
    channel: string,
    after: number | undefined,
    onMessage: (m: { sequence: number; message: JsonValue; publishedAt: number }) => void,
    onEnd: (error: unknown) => void,
  ): Promise<() => Promise<void>> {
    const sub = await this.state.subscribe(channel, (message, meta) => onMessage({ sequence: meta.sequence, message, publishedAt: meta.publishedAt }), {
      ...(after !== undefined && { after }),
      onError: onEnd,
    });
    return () => sub.close();
  }
}
