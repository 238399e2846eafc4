import { randomBytes } from 'node:crypto';
import type { StateClient } from '../../client.js';
import { ConflictError, isStateError } from '../../errors.js';
import { Backoff, sleep } from '../../timing.js';
import type { ClaimedJob, Entry, JsonValue, NativeQueues, QueueCounts, QueueJobRecord, SettleAction } from '../../types.js';
import { jobId, queueKeys } from '../layout.js';
import type { PortableNotify } from './portable-notify.js';

/** What a job looks like in the store (`@q/<queue>/j/<id>`), the first-wave layout. */
// A type alias, not an interface: aliases get an implicit index signature, so a record is a
// JsonValue without casts.
export type JobRecord = {
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
};

/** Conflict retries of one settle before it gives up with `ConflictError` (with backoff between). */
const SETTLE_RETRIES = 50;

/**
 * Queues built on the key contract (compare-and-set on one key per job), for backends without
 * native queues. A claim lists jobs in id order (priority, then sequence) and takes the first
 * visible one with a compare-and-set, so its cost grows with the jobs in flight: native queues
 * exist to avoid exactly that.
 */
export class PortableQueues implements NativeQueues {
  constructor(
    private readonly state: StateClient,
    private readonly notify: PortableNotify,
  ) {}

  async enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }> {
    const keys = queueKeys(queue);
    const sequence = await this.state.increment(keys.seq);
    const id = jobId(job.priority, sequence);
    const now = Date.now();
    const record: JobRecord = {
      payload: JSON.parse(job.json) as JsonValue,
      priority: job.priority,
      sequence,
      attempts: 0,
      enqueuedAt: now,
      visibleAt: now + (job.delayMs ?? 0),
      lease: null,
    };
    await this.state.write(keys.job(id), record, { ifVersion: 'absent' });
    // Waiters in other processes watch the counter: touch it again now that the job exists, or
    // one woken by the increment above may look before the write and sleep a whole re-check.
    await this.state.increment(keys.seq, 0);
    this.notify.wake({ kind: 'queue', name: queue });
    return { id, sequence };
  }

  async claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null> {
    const keys = queueKeys(queue);
    for await (const entry of this.state.list({ prefix: keys.jobs })) {
      const record = entry.value as JobRecord;
      const now = Date.now();
      if (record.visibleAt > now) continue;
      if (options.maxAttempts !== undefined && record.attempts >= options.maxAttempts) {
        await this.#deadLetter(queue, entry);
        continue;
      }
      const lease = { id: randomBytes(8).toString('hex'), owner: options.owner, until: now + options.leaseMs };
      const claimed: JobRecord = { ...record, attempts: record.attempts + 1, visibleAt: lease.until, lease };
      try {
        await this.state.write(entry.key, claimed, { ifVersion: entry.version });
      } catch (error) {
        if (isStateError(error, 'CONFLICT')) continue; // another consumer got it first
        throw error;
      }
      return {
        id: entry.key.slice(keys.jobs.length),
        json: JSON.stringify(record.payload),
        priority: record.priority,
        sequence: record.sequence,
        attempts: claimed.attempts,
        leaseId: lease.id,
        leaseUntil: lease.until,
        enqueuedAt: record.enqueuedAt,
      };
    }
    return null;
  }

  /**
   * Acts on a claim while it is current. A conflict means someone else changed the job between
   * our read and write (a re-claim after the lease, a dead-lettering): re-read after a jittered
   * pause, at most {@link SETTLE_RETRIES} times, so contending settlers never spin.
   */
  async settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    const key = queueKeys(queue).job(id);
    const backoff = new Backoff(1, 50);
    for (let attempt = 0; ; attempt++) {
      const entry = await this.state.read(key);
      const record = entry?.value as JobRecord | undefined;
      if (!entry || !record || record.lease?.id !== leaseId) return false;
      const now = Date.now();
      try {
        if (action.kind === 'ack') {
          await this.state.delete(key, { ifVersion: entry.version });
        } else if (action.kind === 'nack') {
          const next: JobRecord = { ...record, visibleAt: now + action.delayMs, lease: null };
          await this.state.write(key, next, { ifVersion: entry.version });
        } else {
          const until = now + action.leaseMs;
          const next: JobRecord = { ...record, visibleAt: until, lease: { ...record.lease, until } };
          await this.state.write(key, next, { ifVersion: entry.version });
        }
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= SETTLE_RETRIES) throw error;
        await sleep(backoff.next());
        continue;
      }
      if (action.kind === 'nack') {
        // Waiters in other processes watch the queue's counter: touch it (adding 0 changes its
        // version, not its value) so a job given back for now wakes them, not only their timer.
        if (action.delayMs === 0) await this.state.increment(queueKeys(queue).seq, 0);
        this.notify.wake({ kind: 'queue', name: queue });
      }
      return true;
    }
  }

  async counts(queue: string): Promise<QueueCounts> {
    const keys = queueKeys(queue);
    const counts: QueueCounts = { waiting: 0, inFlight: 0, delayed: 0, dead: 0 };
    const now = Date.now();
    for await (const entry of this.state.list({ prefix: keys.jobs })) {
      const record = entry.value as JobRecord;
      counts[stateOf(record, now) === 'in-flight' ? 'inFlight' : (stateOf(record, now) as 'waiting' | 'delayed')]++;
    }
    for await (const _ of this.state.list({ prefix: keys.deadPrefix })) counts.dead++;
    return counts;
  }

  async jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]> {
    const keys = queueKeys(queue);
    const now = Date.now();
    const out: QueueJobRecord[] = [];
    const add = (entry: Entry, prefix: string, dead: boolean): void => {
      const r = entry.value as JobRecord;
      const state = dead ? 'dead' : stateOf(r, now);
      if (options.state !== undefined && state !== options.state) return;
      if (options.afterSequence !== undefined && r.sequence <= options.afterSequence) return;
      const job: QueueJobRecord = {
        id: entry.key.slice(prefix.length),
        json: JSON.stringify(r.payload),
        priority: r.priority,
        sequence: r.sequence,
        attempts: r.attempts,
        enqueuedAt: r.enqueuedAt,
        state,
      };
      if (state === 'delayed' || state === 'in-flight') job.visibleAt = r.visibleAt;
      out.push(job);
    };
    if (options.state !== 'dead') for await (const e of this.state.list({ prefix: keys.jobs })) add(e, keys.jobs, false);
    if (options.state === undefined || options.state === 'dead') {
      for await (const e of this.state.list({ prefix: keys.deadPrefix })) add(e, keys.deadPrefix, true);
    }
    return out.sort((a, b) => a.sequence - b.sequence).slice(0, options.limit);
  }

  async reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean> {
    const keys = queueKeys(queue);
    const revived = await this.state.transaction(async (tx) => {
      const dead = await tx.read(keys.dead(id));
      if (!dead) return false;
      tx.delete(keys.dead(id));
      if (action === 'retry') {
        const record = dead.value as JobRecord;
        const back: JobRecord = { ...record, attempts: 0, visibleAt: Date.now(), lease: null };
        tx.write(keys.job(id), back);
      }
      return true;
    });
    if (revived && action === 'retry') this.notify.wake({ kind: 'queue', name: queue });
    return revived;
  }

  async names(): Promise<string[]> {
    const names = new Set<string>();
    for await (const entry of this.state.list({ prefix: '@q/' })) {
      const [, name, kind] = entry.key.split('/');
      if (name && (kind === 'j' || kind === 'dead')) names.add(name);
    }
    return [...names].sort();
  }

  async #deadLetter(queue: string, entry: Entry): Promise<void> {
    const keys = queueKeys(queue);
    const id = entry.key.slice(keys.jobs.length);
    try {
      await this.state.transaction(
        async (tx) => {
          const current = await tx.read(entry.key);
          if (!current || current.version !== entry.version) return;
          tx.delete(entry.key);
          tx.write(keys.dead(id), { ...(current.value as object), lease: null } as JsonValue);
        },
        { maxRetries: 0 },
      );
    } catch (error) {
      if (!isStateError(error, 'CONFLICT')) throw error;
    }
  }
}

function stateOf(r: JobRecord, now: number): 'waiting' | 'delayed' | 'in-flight' {
  if (r.visibleAt <= now) return 'waiting';
  return r.lease && r.lease.until > now ? 'in-flight' : 'delayed';
}
