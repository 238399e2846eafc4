import type { StateClient } from '../client.js';
import { InvalidValueError } from '../errors.js';
import type { ClaimedJob, JsonValue, QueueCounts, QueueJobRecord, SettleAction } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { families, wakeOf } from './families.js';
import { MAX_PRIORITY, NAMED_PRIORITIES, parseStored, type NamedPriority } from './layout.js';
import { assertSignal, blockingWait } from './wait.js';

export type { JobRecord } from './portable/portable-queues.js';

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
  /**
   * How long to wait for a job when none is visible, woken by the backend's notification;
   * default 0 (one look). `null` after it passes.
   */
  waitMs?: number;
  /** Aborting it rejects a waiting `dequeue` with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link StateClient.queue}. */
export interface QueueOptions {
  /** After this many claims without an ack, a job moves to the dead-letter list instead. */
  maxAttempts?: number;
}

/** A job that reached `maxAttempts`, as {@link Queue.deadLetters} lists it. */
export interface DeadLetter<T extends JsonValue = JsonValue> {
  id: string;
  payload: T;
  priority: number;
  sequence: number;
  attempts: number;
  enqueuedAt: number;
}

const DEFAULT_LEASE_MS = 60_000;
const DEAD_PAGE = 256;

/** Resolves a named or numeric priority; throws `InvalidValueError` for anything else. */
export function resolvePriority(priority: unknown, field = 'options.priority'): number {
  if (priority === undefined) return 0;
  if (typeof priority === 'string' && priority in NAMED_PRIORITIES) return NAMED_PRIORITIES[priority as NamedPriority];
  if (typeof priority === 'number' && Number.isInteger(priority) && Math.abs(priority) <= MAX_PRIORITY) return priority;
  throw new InvalidValueError(field, priority, `expected 'high', 'normal', 'low' or a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
}

function assertId(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw new InvalidValueError(field, value, 'expected an id returned by enqueue or dequeue');
  }
}

/**
 * A claimed job. Invisible to other consumers until its lease ends; `ack` removes it, `nack`
 * returns it (after `delayMs`), `extend` keeps it longer. Unacked, it comes back when the lease
 * ends (at-least-once). Each returns `false` once the claim is no longer current (the lease
 * ended and another consumer claimed the job, or it was settled already).
 */
export class Job<T extends JsonValue = JsonValue> {
  /** @internal Created by {@link Queue.dequeue}. */
  constructor(
    private readonly queue: Queue,
    readonly id: string,
    readonly payload: T,
    readonly priority: number,
    readonly sequence: number,
    /** How many times this job has been claimed, this claim included. */
    readonly attempts: number,
    /** Id of this claim; ack, nack and extend act only while it is the job's current claim. */
    readonly leaseId: string,
    /** Epoch ms when this claim's lease ends unless extended (backend clock). */
    readonly leaseUntil: number,
  ) {}

  /** Removes the job. Harmless twice (false), and false once another consumer re-claimed it. */
  ack(): Promise<boolean> {
    return this.queue.ack(this.id, this.leaseId);
  }

  /** Gives the job back, visible again after `delayMs` (default 0). */
  nack(options?: { delayMs?: number }): Promise<boolean> {
    return this.queue.nack(this.id, this.leaseId, options);
  }

  /** Keeps the job invisible for `leaseMs` more from now. False if the claim was lost. */
  extend(leaseMs: number): Promise<boolean> {
    return this.queue.extend(this.id, this.leaseId, leaseMs);
  }
}

/**
 * A priority queue with leases: highest priority first, then enqueue order. Uses the backend's
 * native queues when it has them (one atomic step per claim), else the portable queues on the
 * key contract; the behaviour is the same, across processes.
 */
export class Queue {
  /** @internal Use `state.queue(name)`. */
  constructor(
    private readonly state: StateClient,
    readonly name: string,
    private readonly options: QueueOptions = {},
  ) {
    assertSegment(name, 'queue');
    assertOptions(options, 'options', ['maxAttempts']);
    assertPositive(options.maxAttempts, 'options.maxAttempts', { integer: true });
  }

  /**
   * Adds a job; returns its id and sequence number.
   * @throws InvalidValueError (payload, priority, delayMs)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async enqueue(payload: JsonValue, options?: EnqueueOptions): Promise<{ id: string; sequence: number }> {
    this.state.guard('enqueue');
    assertOptions(options, 'options', ['priority', 'delayMs']);
    const priority = resolvePriority(options?.priority);
    assertPositive(options?.delayMs, 'options.delayMs', { allowZero: true });
    const json = serializeValue(payload, this.state.config.maxValueBytes, 'payload');
    const delayMs = options?.delayMs;
    return families(this.state).queues.enqueue(this.name, { json, priority, ...(delayMs !== undefined && delayMs > 0 && { delayMs }) });
  }

  /**
   * Claims the visible job with the highest priority (then the lowest sequence) for `leaseMs`.
   * With `waitMs`, waits that long for one (woken by the backend's notification, with bounded
   * re-checks for delayed jobs coming due); `null` when none came. An aborted `signal` rejects
   * with its reason.
   * @throws InvalidValueError (leaseMs, waitMs, signal)
   * @throws BackendUnavailableError
   * @throws StateClosedError (also when close() ends a wait)
   * @throws the signal's reason when aborted
   */
  async dequeue<T extends JsonValue = JsonValue>(options?: DequeueOptions): Promise<Job<T> | null> {
    this.state.guard('dequeue');
    assertOptions(options, 'options', ['leaseMs', 'waitMs', 'signal']);
    assertPositive(options?.leaseMs, 'options.leaseMs');
    assertPositive(options?.waitMs, 'options.waitMs', { allowZero: true });
    assertSignal(options?.signal);
    const leaseMs = options?.leaseMs ?? DEFAULT_LEASE_MS;
    const f = families(this.state);
    const claim = { leaseMs, owner: this.state.clientId, ...(this.options.maxAttempts !== undefined && { maxAttempts: this.options.maxAttempts }) };
    const claimed = await blockingWait<ClaimedJob>({
      check: async () => {
        this.state.guard('dequeue');
        return (await f.queues.claim(this.name, claim)) ?? undefined;
      },
      ...wakeOf(f.queueWake, { kind: 'queue', name: this.name }),
      waitMs: options?.waitMs ?? 0,
      signal: options?.signal,
      closeSignal: this.state.closeSignal,
    });
    if (!claimed) return null;
    return new Job<T>(
      this,
      claimed.id,
      parseStored<T>(claimed.json, `queue ${this.name} job ${claimed.id}`),
      claimed.priority,
      claimed.sequence,
      claimed.attempts,
      claimed.leaseId,
      claimed.leaseUntil,
    );
  }

  /**
   * Acks job `id` while `leaseId` is its current claim (for stateless consumers, e.g. over HTTP).
   * @throws InvalidValueError (id, leaseId)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  ack(id: string, leaseId: string): Promise<boolean> {
    return this.#settle('ack', id, leaseId, { kind: 'ack' });
  }

  /**
   * Gives job `id` back (visible again after `delayMs`, default 0) while `leaseId` is its claim.
   * @throws InvalidValueError (id, leaseId, delayMs)
   * @throws ConflictError (portable path, after bounded retries)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async nack(id: string, leaseId: string, options?: { delayMs?: number }): Promise<boolean> {
    assertOptions(options, 'options', ['delayMs']);
    assertPositive(options?.delayMs, 'options.delayMs', { allowZero: true });
    return this.#settle('nack', id, leaseId, { kind: 'nack', delayMs: options?.delayMs ?? 0 });
  }

  /**
   * Extends the claim `leaseId` of job `id` to now + `leaseMs`; false if it is no longer current.
   * @throws InvalidValueError (id, leaseId, leaseMs)
   * @throws ConflictError (portable path, after bounded retries)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async extend(id: string, leaseId: string, leaseMs: number): Promise<boolean> {
    if (leaseMs === undefined) throw new InvalidValueError('leaseMs', leaseMs, 'expected a number > 0');
    assertPositive(leaseMs, 'leaseMs');
    return this.#settle('extend', id, leaseId, { kind: 'extend', leaseMs });
  }

  /** Jobs in each state: waiting, in flight, delayed, dead. */
  async counts(): Promise<QueueCounts> {
    this.state.guard('count jobs');
    return families(this.state).queues.counts(this.name);
  }

  /** Jobs not yet acked and not dead: waiting, delayed and in flight. */
  async size(): Promise<number> {
    const c = await this.counts();
    return c.waiting + c.inFlight + c.delayed;
  }

  /** Jobs that reached `maxAttempts`, oldest first. */
  async deadLetters<T extends JsonValue = JsonValue>(): Promise<DeadLetter<T>[]> {
    this.state.guard('list dead letters');
    const out: DeadLetter<T>[] = [];
    let afterSequence: number | undefined;
    for (;;) {
      const page: QueueJobRecord[] = await families(this.state).queues.jobs(this.name, {
        state: 'dead',
        limit: DEAD_PAGE,
        ...(afterSequence !== undefined && { afterSequence }),
      });
      for (const r of page) {
        out.push({ id: r.id, payload: parseStored<T>(r.json, `queue ${this.name} dead letter ${r.id}`), priority: r.priority, sequence: r.sequence, attempts: r.attempts, enqueuedAt: r.enqueuedAt });
      }
      if (page.length < DEAD_PAGE) return out;
      afterSequence = page[page.length - 1]!.sequence;
    }
  }

  /** Puts dead letter `id` back in the queue with its attempts reset; false if there is none. */
  async retryDead(id: string): Promise<boolean> {
    this.state.guard('retry a dead letter');
    assertId(id, 'id');
    return families(this.state).queues.reviveDead(this.name, id, 'retry');
  }

  /** Deletes dead letter `id`; false if there is none. */
  async deleteDead(id: string): Promise<boolean> {
    this.state.guard('delete a dead letter');
    assertId(id, 'id');
    return families(this.state).queues.reviveDead(this.name, id, 'delete');
  }

  async #settle(op: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    this.state.guard(`${op} a job`);
    assertId(id, 'id');
    assertId(leaseId, 'leaseId');
    return families(this.state).queues.settle(this.name, id, leaseId, action);
  }
}
