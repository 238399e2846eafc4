/**
 * Native queues (`NativeQueues`) on sorted sets and one hash per queue, every step one Lua
 * script: `enqueue-8.lua`, `claim-5.lua`, `settle-8.lua`, `reviveDead-8.lua`,
 * `queueCounts-5.lua`. Keys per queue, all under the namespace's `{ns}` hash tag:
 *
 * ```
 * <base>q:<queue>:ready      zset  waiting jobs, score -priority, member = id (15-digit sequence)
 * <base>q:<queue>:delayed    zset  delayed jobs by visibleAt (server TIME)
 * <base>q:<queue>:inflight   zset  claimed jobs by leaseUntil (server TIME)
 * <base>q:<queue>:jobs       hash  id -> '<state>:<attempts>:<priority>:<enqueuedAt>:<visibleAt>:<leaseId>:<json>'
 * <base>q:<queue>:dead       zset  dead letters by sequence
 * <base>q:<queue>:all        zset  every job by sequence (jobs() paging)
 * <base>q:<queue>:seq        string the sequence counter (kept when the queue empties)
 * <base>qnames               zset  names of queues that hold jobs
 * ```
 */
import { randomBytes } from 'node:crypto';
import type { ClaimedJob, NativeQueues, QueueCounts, QueueJobRecord, SettleAction } from '@agent-state/core';
import type { Cluster, Redis } from 'ioredis';
import { replyArray, type ScriptContext } from './context.js';
import { wholeMs } from './lock.js';

/** Due delayed jobs, and as many ended leases, that one claim returns to ready at most. */
const CLAIM_BATCH = 100;

/** A stored job record. */
const RECORD = /^([a-z]):(\d+):(-?\d+):(\d+):(\d*):([0-9a-z]*):([\s\S]*)$/;

const STATES = { w: 'waiting', d: 'delayed', f: 'in-flight', x: 'dead' } as const;

type Call = <T>(location: string, fn: (client: Redis | Cluster) => Promise<T>) => Promise<T>;

export class RedisQueues implements NativeQueues {
  constructor(
    private readonly ctx: ScriptContext,
    private readonly call: Call,
  ) {}

  /** The eight keys of a queue, in the order every queue script takes them. */
  #keys(queue: string): string[] {
    const q = this.ctx.keys.queue(queue);
    return [q.ready, q.delayed, q.inflight, q.jobs, q.dead, q.all, q.seq, this.ctx.keys.queueNames];
  }

  #channel(queue: string): string {
    return this.ctx.keys.wakeChannel({ kind: 'queue', name: queue });
  }

  async enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }> {
    const keys = this.#keys(queue);
    const delay = job.delayMs !== undefined && job.delayMs > 0 ? wholeMs(job.delayMs) : 0;
    const [id, sequence] = replyArray(await this.ctx.script('enqueue', keys[0]!, [...keys, queue, job.json, job.priority, delay, this.#channel(queue)])) as [
      string,
      number,
    ];
    return { id, sequence };
  }

  async claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null> {
    const keys = this.#keys(queue).slice(0, 5);
    const leaseId = randomBytes(8).toString('hex');
    for (;;) {
      const reply = await this.ctx.script('claim', keys[0]!, [...keys, wholeMs(options.leaseMs), options.maxAttempts ?? '', leaseId, CLAIM_BATCH]);
      if (reply === null) return null;
      const [id, json, priority, attempts, leaseUntil, enqueuedAt] = replyArray(reply) as [string, string, number, number, number, number];
      if (id === '') continue; // a long run of jobs went to the dead letters; the next call goes on
      return { id, json, priority, sequence: Number(id), attempts, leaseId, leaseUntil, enqueuedAt };
    }
  }

  async settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    const keys = this.#keys(queue);
    const ms = action.kind === 'ack' ? 0 : action.kind === 'nack' ? (action.delayMs > 0 ? wholeMs(action.delayMs) : 0) : wholeMs(action.leaseMs);
    const [code] = replyArray(await this.ctx.script('settle', keys[0]!, [...keys, id, leaseId, action.kind, ms, queue, this.#channel(queue)])) as [number];
    return code === 1;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const keys = this.#keys(queue).slice(0, 5);
    const [waiting, inFlight, delayed, dead] = replyArray(await this.ctx.script('queueCounts', keys[0]!, keys)) as number[];
    return { waiting: waiting!, inFlight: inFlight!, delayed: delayed!, dead: dead! };
  }

  /**
   * Pages `all` by sequence and reads the records (not one atomic step: a job settled between
   * the two reads is skipped). A state filter reads on until the page is full or the queue ends.
   */
  async jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]> {
    const q = this.ctx.keys.queue(queue);
    const out: QueueJobRecord[] = [];
    let after = options.afterSequence ?? 0;
    const page = Math.max(options.limit, 100);
    const [seconds, micros] = await this.call(q.all, (client) => client.time());
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    while (out.length < options.limit) {
      const ids = await this.call(q.all, (client) => client.zrangebyscore(q.all, `(${after}`, '+inf', 'LIMIT', 0, page));
      if (ids.length === 0) break;
      const records = await this.call(q.jobs, (client) => client.hmget(q.jobs, ...ids));
      for (let i = 0; i < ids.length && out.length < options.limit; i++) {
        const match = RECORD.exec(records[i] ?? '');
        if (!match) continue;
        const [, s, attempts, priority, enqueuedAt, visibleAt, , json] = match as unknown as string[];
        let state: QueueJobRecord['state'] = STATES[s as keyof typeof STATES];
        if ((state === 'delayed' || state === 'in-flight') && Number(visibleAt) <= now) state = 'waiting';
        if (options.state !== undefined && state !== options.state) continue;
        const job: QueueJobRecord = { id: ids[i]!, json: json!, priority: Number(priority), sequence: Number(ids[i]), attempts: Number(attempts), enqueuedAt: Number(enqueuedAt), state };
        if (state === 'delayed' || state === 'in-flight') job.visibleAt = Number(visibleAt);
        out.push(job);
      }
      if (ids.length < page) break;
      after = Number(ids[ids.length - 1]);
    }
    return out;
  }

  async reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean> {
    const keys = this.#keys(queue);
    const [code] = replyArray(await this.ctx.script('reviveDead', keys[0]!, [...keys, id, action, queue, this.#channel(queue)])) as [number];
    return code === 1;
  }

  names(): Promise<string[]> {
    const names = this.ctx.keys.queueNames;
    return this.call(names, (client) => client.zrangebylex(names, '-', '+'));
  }
}
