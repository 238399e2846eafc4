/**
 * The native queue family (src/queues.ts) against a real database file, through the backend
 * surface core calls: order, leases, settling, dead letters, counts, paging, names, and 16 OS
 * processes racing for one job.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteBackend } from '../src/index.js';
import { storageCounts } from '../src/storage.js';
import { NativeFixture } from './native-helpers.js';

let f: NativeFixture;
let b: SqliteBackend;
beforeEach(async () => {
  f = new NativeFixture();
  b = await f.backend();
});
afterEach(async () => {
  await f.dispose();
});

const lease = { leaseMs: 60_000, owner: 'test' };
/** Waits until the backend clock (the wall clock here) has passed `at`. */
async function until(at: number): Promise<void> {
  while (Date.now() <= at) await new Promise((r) => setTimeout(r, Math.max(1, at - Date.now() + 1)));
}

describe('native queues', () => {
  it('declares the native families', () => {
    expect(b.capabilities.coordination).toEqual({ queues: true, logs: true, notify: true, lockWake: true });
  });

  it('claims by priority (highest first), then by sequence; sequences strictly increase per queue', async () => {
    const ids: Record<string, { id: string; sequence: number }> = {};
    for (const [name, priority] of [['low-1', -1], ['normal-1', 0], ['high-1', 5], ['normal-2', 0], ['high-2', 5]] as const) {
      ids[name] = await b.queues.enqueue('q', { json: JSON.stringify(name), priority });
    }
    const sequences = Object.values(ids).map((x) => x.sequence);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    expect(new Set(sequences).size).toBe(5);
    const order: string[] = [];
    for (;;) {
      const job = await b.queues.claim('q', lease);
      if (!job) break;
      order.push(JSON.parse(job.json) as string);
      expect(job.attempts).toBe(1);
      expect(job.leaseUntil).toBeGreaterThan(Date.now());
    }
    expect(order).toEqual(['high-1', 'high-2', 'normal-1', 'normal-2', 'low-1']);
  });

  it('a lease that runs out brings the job back with attempts counted; the old lease cannot settle after the re-claim', async () => {
    await b.queues.enqueue('q', { json: '"job"', priority: 0 });
    // The claim and the count below must come inside the lease: 2 s of room, not 40 ms.
    const first = (await b.queues.claim('q', { leaseMs: 2_000, owner: 'a' }))!;
    expect(await b.queues.claim('q', lease)).toBeNull();
    expect((await b.queues.counts('q')).inFlight).toBe(1);
    await until(first.leaseUntil);
    expect(await b.queues.counts('q')).toMatchObject({ waiting: 1, inFlight: 0 });
    const second = (await b.queues.claim('q', lease))!;
    expect(second.id).toBe(first.id);
    expect(second.attempts).toBe(2);
    expect(second.leaseId).not.toBe(first.leaseId);
    for (const action of [{ kind: 'ack' }, { kind: 'nack', delayMs: 0 }, { kind: 'extend', leaseMs: 1000 }] as const) {
      expect(await b.queues.settle('q', first.id, first.leaseId, action)).toBe(false);
    }
    expect(await b.queues.settle('q', second.id, second.leaseId, { kind: 'ack' })).toBe(true);
    expect(await b.queues.settle('q', second.id, second.leaseId, { kind: 'ack' })).toBe(false);
    expect(await b.queues.counts('q')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
  });

  it('settle with a stale or unknown lease id, or an unknown job id, is false and changes nothing', async () => {
    const { id } = await b.queues.enqueue('q', { json: '1', priority: 0 });
    const job = (await b.queues.claim('q', lease))!;
    expect(await b.queues.settle('q', id, 'not-the-lease', { kind: 'ack' })).toBe(false);
    expect(await b.queues.settle('q', 'no-such-id', job.leaseId, { kind: 'ack' })).toBe(false);
    expect(await b.queues.settle('q', '999', job.leaseId, { kind: 'ack' })).toBe(false);
    expect(await b.queues.settle('other', id, job.leaseId, { kind: 'ack' })).toBe(false);
    expect((await b.queues.counts('q')).inFlight).toBe(1);
  });

  it('nack returns a job at once or after delayMs; extend keeps it claimed; delayMs on enqueue hides a job', async () => {
    await b.queues.enqueue('q', { json: '"later"', priority: 9, delayMs: 60_000 });
    await b.queues.enqueue('q', { json: '"now"', priority: 0 });
    expect(await b.queues.counts('q')).toEqual({ waiting: 1, inFlight: 0, delayed: 1, dead: 0 });
    const job = (await b.queues.claim('q', lease))!;
    expect(job.json).toBe('"now"');
    expect(await b.queues.settle('q', job.id, job.leaseId, { kind: 'extend', leaseMs: 120_000 })).toBe(true);
    const [inFlight] = await b.queues.jobs('q', { state: 'in-flight', limit: 10 });
    expect(inFlight!.visibleAt).toBeGreaterThan(job.leaseUntil);
    expect(await b.queues.settle('q', job.id, job.leaseId, { kind: 'nack', delayMs: 0 })).toBe(true);
    const again = (await b.queues.claim('q', lease))!;
    expect(again.id).toBe(job.id);
    expect(again.attempts).toBe(2);
    const nackedAt = Date.now();
    // The claim and the count must come before the nack's delay ends: 2 s of room, not 50 ms.
    expect(await b.queues.settle('q', again.id, again.leaseId, { kind: 'nack', delayMs: 2_000 })).toBe(true);
    expect(await b.queues.claim('q', lease)).toBeNull();
    expect((await b.queues.counts('q')).delayed).toBe(2);
    await until(nackedAt + 2_000);
    expect((await b.queues.claim('q', lease))?.id).toBe(job.id);
  });

  it('maxAttempts moves a job to the dead letters during a claim; reviveDead retries (attempts 0) or deletes', async () => {
    const { id } = await b.queues.enqueue('q', { json: '"poison"', priority: 0 });
    const other = await b.queues.enqueue('q', { json: '"fine"', priority: -1 });
    for (let i = 1; i <= 2; i++) {
      const job = (await b.queues.claim('q', { ...lease, maxAttempts: 2 }))!;
      expect(job.id).toBe(id);
      expect(job.attempts).toBe(i);
      await b.queues.settle('q', job.id, job.leaseId, { kind: 'nack', delayMs: 0 });
    }
    const next = (await b.queues.claim('q', { ...lease, maxAttempts: 2 }))!;
    expect(next.id).toBe(other.id);
    expect(await b.queues.counts('q')).toEqual({ waiting: 0, inFlight: 1, delayed: 0, dead: 1 });
    const [dead] = await b.queues.jobs('q', { state: 'dead', limit: 10 });
    expect(dead).toMatchObject({ id, state: 'dead', attempts: 2, json: '"poison"' });
    expect(await b.queues.reviveDead('q', other.id, 'retry')).toBe(false);
    expect(await b.queues.reviveDead('q', id, 'retry')).toBe(true);
    const revived = (await b.queues.claim('q', { ...lease, maxAttempts: 2 }))!;
    expect(revived).toMatchObject({ id, attempts: 1 });
    await b.queues.settle('q', revived.id, revived.leaseId, { kind: 'nack', delayMs: 0 });
    await b.queues.settle('q', revived.id, revived.leaseId, { kind: 'nack', delayMs: 0 });
    const r2 = (await b.queues.claim('q', { ...lease, maxAttempts: 2 }))!;
    await b.queues.settle('q', r2.id, r2.leaseId, { kind: 'nack', delayMs: 0 });
    expect(await b.queues.claim('q', { ...lease, maxAttempts: 2 })).toBeNull();
    expect((await b.queues.counts('q')).dead).toBe(1);
    expect(await b.queues.reviveDead('q', id, 'delete')).toBe(true);
    expect(await b.queues.reviveDead('q', id, 'delete')).toBe(false);
    expect((await b.queues.counts('q')).dead).toBe(0);
  });

  it('jobs() pages by sequence in every state; names() lists queues holding a job, in key order', async () => {
    for (let i = 0; i < 25; i++) await b.queues.enqueue('b-queue', { json: String(i), priority: i % 3, ...(i % 5 === 0 && { delayMs: 60_000 }) });
    await b.queues.enqueue('a-queue', { json: '0', priority: 0 });
    await b.queues.claim('b-queue', lease);
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await b.queues.jobs('b-queue', { afterSequence: after, limit: 7 });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(7);
      seen.push(...page.map((j) => j.sequence));
      after = page[page.length - 1]!.sequence;
    }
    expect(seen).toHaveLength(25);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(await b.queues.jobs('b-queue', { state: 'delayed', limit: 100 })).toHaveLength(5);
    expect(await b.queues.jobs('b-queue', { state: 'in-flight', limit: 100 })).toHaveLength(1);
    expect(await b.queues.jobs('b-queue', { state: 'waiting', limit: 100 })).toHaveLength(19);
    expect(await b.queues.jobs('b-queue', { state: 'waiting', limit: 3 })).toHaveLength(3);
    expect(await b.queues.names()).toEqual(['a-queue', 'b-queue']);
    const only = (await b.queues.claim('a-queue', lease))!;
    await b.queues.settle('a-queue', only.id, only.leaseId, { kind: 'ack' });
    expect(await b.queues.names()).toEqual(['b-queue']);
  });

  it('a claim reads no in-flight or delayed job: its plan uses only the ready and timed indexes', () => {
    const db = new Database(f.path, { readonly: true });
    try {
      const plan = (sql: string, n: number) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<number>(n).fill(1)) as { detail: string }[]).map((r) => r.detail).join('; ');
      expect(plan(`SELECT seq, attempts FROM queue_jobs INDEXED BY queue_ready WHERE namespace = ? AND queue = ? AND state = 0 ORDER BY priority DESC, seq LIMIT 1`, 2)).toMatch(
        /queue_ready/,
      );
      expect(plan(`SELECT seq FROM queue_jobs INDEXED BY queue_timed WHERE namespace = ? AND queue = ? AND state IN (1, 2) AND due_at <= ? ORDER BY due_at LIMIT 5`, 3)).toMatch(
        /queue_timed \(namespace=\? AND queue=\? AND due_at<\?\)/,
      );
    } finally {
      db.close();
    }
  });

  it('acked jobs leave no row or index member behind', async () => {
    await b.queues.enqueue('q', { json: '0', priority: 0 });
    const warm = (await b.queues.claim('q', lease))!;
    await b.queues.settle('q', warm.id, warm.leaseId, { kind: 'ack' });
    const before = storageCounts(f.path, f.namespace);
    for (let i = 0; i < 500; i++) await b.queues.enqueue('q', { json: String(i), priority: i % 4, ...(i % 7 === 0 && { delayMs: 1 }) });
    await new Promise((r) => setTimeout(r, 5));
    for (;;) {
      const job = await b.queues.claim('q', lease);
      if (!job) break;
      await b.queues.settle('q', job.id, job.leaseId, { kind: 'ack' });
    }
    expect(storageCounts(f.path, f.namespace)).toEqual(before);
  });

  it('16 processes racing to claim one job: exactly one wins', async () => {
    await b.queues.enqueue('race', { json: '"the one"', priority: 0 });
    const workers = Array.from({ length: 16 }, () => f.spawn('claim', { queue: 'race' }));
    await Promise.all(workers.map((w) => w.waitFor('ready')));
    for (const w of workers) w.go();
    const results = await Promise.all(workers.map((w) => w.waitFor('claim')));
    const winners = results.filter((r) => r.job !== null);
    expect(winners).toHaveLength(1);
    expect((winners[0]!.job as { json: string }).json).toBe('"the one"');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual(Array(16).fill(0));
    expect(await b.queues.counts('race')).toEqual({ waiting: 0, inFlight: 1, delayed: 0, dead: 0 });
  });
});
