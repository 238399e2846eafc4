/** Native queues against the emulator, through the backend surface. */
import { afterEach, describe, expect, it } from 'vitest';
import { NativeStore } from './native.js';
import { storageCount } from './fixtures.js';

const stores: NativeStore[] = [];
function store(): NativeStore {
  const s = new NativeStore();
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.dispose();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lease = { leaseMs: 30_000, owner: 'test' };

describe('firebase native queues', () => {
  it('claims by priority (highest first), then by sequence, and declares the family', async () => {
    const b = await store().open();
    expect(b.capabilities.coordination).toEqual({ queues: true, logs: true, notify: true, lockWake: true });
    const q = b.queues;
    const low = await q.enqueue('jobs', { json: '"low"', priority: -5 });
    const a = await q.enqueue('jobs', { json: '"a"', priority: 0 });
    const high = await q.enqueue('jobs', { json: '"high"', priority: 10 });
    const b2 = await q.enqueue('jobs', { json: '"b"', priority: 0 });
    expect([low, a, high, b2].map((j) => j.sequence)).toEqual([1, 2, 3, 4]);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await q.claim('jobs', lease))!.json);
    expect(order).toEqual(['"high"', '"a"', '"b"', '"low"']);
    expect(await q.claim('jobs', lease)).toBeNull();
    expect(await q.counts('jobs')).toEqual({ waiting: 0, inFlight: 4, delayed: 0, dead: 0 });
  });

  it('an unacked lease comes back after it ends; settling with the old lease id is then false', async () => {
    const q = (await store().open()).queues;
    await q.enqueue('lease', { json: '1', priority: 0 });
    const first = (await q.claim('lease', { leaseMs: 100, owner: 'a' }))!;
    expect(first.attempts).toBe(1);
    expect(await q.claim('lease', lease)).toBeNull();
    await sleep(200);
    const second = (await q.claim('lease', lease))!;
    expect(second.id).toBe(first.id);
    expect(second.attempts).toBe(2);
    expect(second.leaseId).not.toBe(first.leaseId);
    expect(await q.settle('lease', first.id, first.leaseId, { kind: 'ack' })).toBe(false);
    expect(await q.settle('lease', second.id, second.leaseId, { kind: 'extend', leaseMs: 60_000 })).toBe(true);
    expect(await q.settle('lease', second.id, second.leaseId, { kind: 'ack' })).toBe(true);
    expect(await q.settle('lease', second.id, second.leaseId, { kind: 'ack' })).toBe(false);
    expect(await q.counts('lease')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
  });

  it('delayed jobs and nack delays stay invisible until due', async () => {
    const q = (await store().open()).queues;
    await q.enqueue('later', { json: '"d"', priority: 0, delayMs: 150 });
    expect(await q.claim('later', lease)).toBeNull();
    expect((await q.counts('later')).delayed).toBe(1);
    await sleep(250);
    const job = (await q.claim('later', lease))!;
    expect(job.json).toBe('"d"');
    expect(await q.settle('later', job.id, job.leaseId, { kind: 'nack', delayMs: 150 })).toBe(true);
    expect(await q.claim('later', lease)).toBeNull();
    await sleep(250);
    const again = (await q.claim('later', lease))!;
    expect(again.attempts).toBe(2);
    expect(await q.settle('later', again.id, again.leaseId, { kind: 'nack', delayMs: 0 })).toBe(true);
    expect((await q.claim('later', lease))!.attempts).toBe(3);
  });

  it('a job claimed maxAttempts times goes to the dead letters on the next claim; reviveDead retries or deletes', async () => {
    const q = (await store().open()).queues;
    const { id } = await q.enqueue('dl', { json: '"x"', priority: 0 });
    for (let i = 0; i < 2; i++) {
      const job = (await q.claim('dl', { ...lease, maxAttempts: 2 }))!;
      await q.settle('dl', job.id, job.leaseId, { kind: 'nack', delayMs: 0 });
    }
    expect(await q.claim('dl', { ...lease, maxAttempts: 2 })).toBeNull();
    expect(await q.counts('dl')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 1 });
    expect((await q.jobs('dl', { state: 'dead', limit: 10 })).map((j) => [j.id, j.attempts])).toEqual([[id, 2]]);
    expect(await q.reviveDead('dl', id, 'retry')).toBe(true);
    expect(await q.reviveDead('dl', id, 'retry')).toBe(false);
    const back = (await q.claim('dl', { ...lease, maxAttempts: 2 }))!;
    expect(back.attempts).toBe(1);
    await q.settle('dl', back.id, back.leaseId, { kind: 'nack', delayMs: 0 });
    expect(await q.claim('dl', { ...lease, maxAttempts: 1 })).toBeNull();
    expect((await q.counts('dl')).dead).toBe(1);
    expect(await q.reviveDead('dl', id, 'delete')).toBe(true);
    expect(await q.counts('dl')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
  });

  it('jobs() pages by sequence in every state; names() lists queues holding jobs', async () => {
    const q = (await store().open()).queues;
    for (let i = 0; i < 5; i++) await q.enqueue('paged', { json: String(i), priority: i % 2, delayMs: i === 4 ? 60_000 : 0 });
    await q.claim('paged', lease);
    const page1 = await q.jobs('paged', { limit: 2 });
    const page2 = await q.jobs('paged', { limit: 10, afterSequence: page1.at(-1)!.sequence });
    expect([...page1, ...page2].map((j) => j.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect([...page1, ...page2].map((j) => j.state)).toEqual(['waiting', 'in-flight', 'waiting', 'waiting', 'delayed']);
    expect((await q.jobs('paged', { state: 'waiting', limit: 10 })).map((j) => j.sequence)).toEqual([1, 3, 4]);
    await q.enqueue('other/q', { json: '0', priority: 0 });
    expect(await q.names()).toEqual(['other/q', 'paged']);
    const job = (await q.claim('other/q', lease))!;
    await q.settle('other/q', job.id, job.leaseId, { kind: 'ack' });
    expect(await q.names()).toEqual(['paged']);
  });

  it('16 processes racing to claim one job: exactly one gets it', async () => {
    const s = store();
    const q = (await s.open()).queues;
    const { id } = await q.enqueue('race', { json: '"only"', priority: 0 });
    const startAt = Date.now() + 8_000;
    const workers = Array.from({ length: 16 }, () => s.spawn('claim', { queue: 'race', startAt }));
    const results = await Promise.all(workers.map((w) => w.next('claimed')));
    await Promise.all(workers.map((w) => w.done));
    const winners = results.filter((r) => r.id !== null);
    expect(winners.map((r) => r.id)).toEqual([id]);
    expect(await q.counts('race')).toEqual({ waiting: 0, inFlight: 1, delayed: 0, dead: 0 });
  }, 60_000);

  it('a listener in another process is woken by an enqueue', async () => {
    const s = store();
    const q = (await s.open()).queues;
    const worker = s.spawn('listen', { topic: { kind: 'queue', name: 'wake' } });
    await worker.next('listening');
    await q.enqueue('wake', { json: '1', priority: 0 });
    await worker.next('woken');
    expect(await worker.done).toBe(0);
  });

  it('acked jobs leave nothing behind: storage back to its count after 500 jobs', async () => {
    const s = store();
    const q = (await s.open()).queues;
    await q.enqueue('short', { json: '0', priority: 0 });
    const first = (await q.claim('short', lease))!;
    await q.settle('short', first.id, first.leaseId, { kind: 'ack' });
    const before = await storageCount(s.config.namespace);
    for (let i = 0; i < 500; i++) {
      await q.enqueue('short', { json: String(i), priority: i % 3, delayMs: i % 10 === 0 ? 1 : 0 });
      if (i % 4 === 3) {
        for (let k = 0; k < 4; k++) {
          const job = await q.claim('short', lease);
          if (job) await q.settle('short', job.id, job.leaseId, { kind: 'ack' });
        }
      }
    }
    for (let round = 0; ; round++) {
      const job = await q.claim('short', lease);
      if (!job) {
        const counts = await q.counts('short');
        if (counts.delayed === 0) break;
        if (round > 10_000) throw new Error(`queue not drained: ${JSON.stringify(counts)}`);
        await sleep(5);
        continue;
      }
      await q.settle('short', job.id, job.leaseId, { kind: 'ack' });
    }
    expect(await q.counts('short')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    expect(await storageCount(s.config.namespace)).toBe(before);
  }, 300_000);
});
