import { randomBytes } from 'node:crypto';
import type { StateClient } from '../client.js';
import { ConflictError, InvalidValueError, isStateError } from '../errors.js';
import type { Entry, JsonValue } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { MAX_PRIORITY, NAMED_PRIORITIES, jobId, queueKeys, type NamedPriority } from './layout.js';

/** Options of {@link Queue.enqueue}. */
export interface EnqueueOptions {
  /** `high` (10), `normal` (0, default), `low` (-10) or a whole number in ±999 999; larger first. */
  priority?: NamedPriority | number;
  /** The job becomes visible to consumers only after this many ms. */
  delayMs?: number;
}

/** Options of {@link Queue.dequeue}. */
export interface DequeueOptions {
  /** How long the claimed job stays invisible to other consumers; default 60 000 ms. */
  leaseMs?: number;
}

/** Options of {@link StateClient.queue}. */
export interface QueueOptions {
  /** After this many claims without an ack, a job moves to the dead-letter list instead. */
  maxAttempts?: number;
}

/** What a job looks like in the store (`@q/<queue>/j/<id>`). */
export interface JobRecord {
  payload: JsonValue;
  priority: number;
  sequence: number;
  /** How many times the job was claimed. */
  attempts: number;
  enqueuedAt: number;
  /** Epoch ms before which no consumer may claim it (delay, or the current lease). */
  visibleAt: number;
  /** The current claim, if any. */
  lease: { id: string; owner: string; until: number } | null;
}

const DEFAULT_LEASE_MS = 60_000;

/** Resolves a named or numeric priority; throws `InvalidValueError` for anything else. */
export function resolvePriority(priority: unknown, field = 'options.priority'): number {
  if (priority === undefined) return 0;
  if (typeof priority === 'string' && priority in NAMED_PRIORITIES) return NAMED_PRIORITIES[priority as NamedPriority];
  if (typeof priority === 'number' && Number.isInteger(priority) && Math.abs(priority) <= MAX_PRIORITY) return priority;
  throw new InvalidValueError(field, priority, `expected 'high', 'normal', 'low' or a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
}

/**
 * A claimed job. Invisible to other consumers until its lease ends; `ack` removes it, `nack`
 * returns it (after `delayMs`). Unacked, it comes back when the lease ends (at-least-once).
 */
export class Job<T extends JsonValue = JsonValue> {
  constructor(
    private readonly queue: Queue,
    readonly id: string,
    readonly payload: T,
    readonly priority: number,
    readonly sequence: number,
    /** How many times this job has been claimed, this claim included. */
    readonly attempts: number,
    /** Id of this claim; ack and nack act only while it is the job's current claim. */
    readonly leaseId: string,
  ) {}

  /** Removes the job. Harmless twice, and a no-op (false) once another consumer re-claimed it. */
  ack(): Promise<boolean> {
    return this.queue.settle(this.id, this.leaseId, null);
  }

  /** Gives the job back, visible again after `delayMs` (default 0). */
  nack(options?: { delayMs?: number }): Promise<boolean> {
    assertOptions(options, 'options', ['delayMs']);
    assertPositive(options?.delayMs, 'options.delayMs', { allowZero: true });
    return this.queue.settle(this.id, this.leaseId, options?.delayMs ?? 0);
  }

  /** Keeps the job invisible for `leaseMs` more from now. False if the claim was lost. */
  extend(leaseMs: number): Promise<boolean> {
    assertPositive(leaseMs, 'leaseMs');
    return this.queue.settle(this.id, this.leaseId, -leaseMs);
  }
}

/**
 * A priority queue with leases, built on the contract (compare-and-set on one key per job), so
 * it works the same on every backend and across processes.
 */
export class Queue {
  readonly #keys: ReturnType<typeof queueKeys>;

  /** @internal Use `state.queue(name)`. */
  constructor(
    private readonly state: StateClient,
    readonly name: string,
    private readonly options: QueueOptions = {},
  ) {
    assertSegment(name, 'queue');
    assertOptions(options, 'options', ['maxAttempts']);
    assertPositive(options.maxAttempts, 'options.maxAttempts', { integer: true });
    this.#keys = queueKeys(name);
  }

  /** Adds a job; returns its id and sequence number. */
  async enqueue(payload: JsonValue, options?: EnqueueOptions): Promise<{ id: string; sequence: number }> {
    this.state.guard('enqueue');
    assertOptions(options, 'options', ['priority', 'delayMs']);
    const priority = resolvePriority(options?.priority);
    assertPositive(options?.delayMs, 'options.delayMs', { allowZero: true });
    serializeValue(payload, this.state.config.maxValueBytes, 'payload');
    const sequence = await this.state.increment(this.#keys.seq);
    const id = jobId(priority, sequence);
    const now = Date.now();
    const record: JobRecord = {
      payload,
      priority,
      sequence,
      attempts: 0,
      enqueuedAt: now,
      visibleAt: now + (options?.delayMs ?? 0),
      lease: null,
    };
    await this.state.write(this.#keys.job(id), record as unknown as JsonValue, { ifVersion: 'absent' });
    return { id, sequence };
  }

  /**
   * Claims the visible job with the highest priority (then the lowest sequence), or returns
   * `null` when none is visible. The claim lasts `leaseMs`.
   */
  async dequeue<T extends JsonValue = JsonValue>(options?: DequeueOptions): Promise<Job<T> | null> {
    this.state.guard('dequeue');
    assertOptions(options, 'options', ['leaseMs']);
    assertPositive(options?.leaseMs, 'options.leaseMs');
    const leaseMs = options?.leaseMs ?? DEFAULT_LEASE_MS;
    for await (const entry of this.state.list({ prefix: this.#keys.jobs })) {
      const record = entry.value as unknown as JobRecord;
      const now = Date.now();
      if (record.visibleAt > now) continue;
      if (this.options.maxAttempts !== undefined && record.attempts >= this.options.maxAttempts) {
        await this.#deadLetter(entry);
        continue;
      }
      const lease = { id: randomBytes(8).toString('hex'), owner: this.state.clientId, until: now + leaseMs };
      const claimed: JobRecord = { ...record, attempts: record.attempts + 1, visibleAt: lease.until, lease };
      try {
        await this.state.write(entry.key, claimed as unknown as JsonValue, { ifVersion: entry.version });
      } catch (error) {
        if (isStateError(error, 'CONFLICT')) continue; // another consumer got it first
        throw error;
      }
      const id = entry.key.slice(this.#keys.jobs.length);
      return new Job<T>(this, id, record.payload as T, record.priority, record.sequence, claimed.attempts, lease.id);
    }
    return null;
  }

  /** Jobs not yet acked: waiting, delayed and claimed. */
  async size(): Promise<number> {
    this.state.guard('size');
    let n = 0;
    for await (const _ of this.state.list({ prefix: this.#keys.jobs })) n++;
    return n;
  }

  /** Jobs that reached `maxAttempts`, oldest first. */
  async deadLetters(): Promise<(JobRecord & { id: string })[]> {
    this.state.guard('list dead letters');
    const out: (JobRecord & { id: string })[] = [];
    for await (const e of this.state.list({ prefix: this.#keys.deadPrefix })) {
      out.push({ ...(e.value as unknown as JobRecord), id: e.key.slice(this.#keys.deadPrefix.length) });
    }
    return out;
  }

  /**
   * @internal Acts on a claim if it is still current: `null` acks, `>= 0` nacks with that delay,
   * `< 0` extends the lease by its magnitude.
   */
  async settle(id: string, leaseId: string, action: number | null): Promise<boolean> {
    this.state.guard('settle a job');
    const key = this.#keys.job(id);
    for (;;) {
      const entry = await this.state.read(key);
      const record = entry?.value as unknown as JobRecord | undefined;
      if (!entry || !record || record.lease?.id !== leaseId) return false;
      try {
        if (action === null) {
          await this.state.delete(key, { ifVersion: entry.version });
        } else {
          const now = Date.now();
          const next: JobRecord =
            action >= 0
              ? { ...record, visibleAt: now + action, lease: null }
              : { ...record, visibleAt: now - action, lease: { ...record.lease, until: now - action } };
          await this.state.write(key, next as unknown as JsonValue, { ifVersion: entry.version });
        }
        return true;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  }

  async #deadLetter(entry: Entry): Promise<void> {
    const id = entry.key.slice(this.#keys.jobs.length);
    try {
      await this.state.transaction(async (tx) => {
        const current = await tx.read(entry.key);
        if (!current || current.version !== entry.version) return;
        tx.delete(entry.key);
        tx.write(this.#keys.dead(id), { ...(current.value as object), lease: null } as JsonValue);
      }, { maxRetries: 0 });
    } catch (error) {
      if (!isStateError(error, 'CONFLICT')) throw error;
    }
  }
}
