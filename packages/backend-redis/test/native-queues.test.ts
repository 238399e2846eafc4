import assert from 'node:assert/strict';
import { openState, sleep, type ClaimedJob, type NativeQueues, type StateClient } from '@agent-state/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { storageCount } from '../src/index.js';
import { dropNamespace, freshNamespace, namespaceKeys, REDIS_URL } from './helpers/redis.js';
import { race } from './helpers/workers.js';
import { Redis } from 'ioredis';

describe('native queues (sorted sets + Lua)', () => {
  const ns = freshNamespace('nq');
  const admin = new Redis(REDIS_URL);
  let state: StateClient;
  let q: NativeQueues;
  const job = (json: unknown, priority = 0, delayMs?: number) => ({ json: JSON.stringify(json), priority, ...(delayMs !== undefined && { delayMs }) });
  const claim = (queue: string, leaseMs = 30_000, maxAttempts?: number) =>
    q.claim(queue, { leaseMs, owner: 'test', ...(maxAttempts !== undefined && { maxAttempts }) });

  beforeAll(async () => {
    state = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
    assert.deepEqual(state.backend.capabilities.coordination, { queues: true, logs: true, notify: true, lockWake: true });
    q = state.backend.queues!;
  });
  afterAll(async () => {
    await state.close();
    await dropNamespace(ns);
    assert.deepEqual(await namespaceKeys(admin, ns), []);
    admin.disconnect();
  });

  it('claims in priority order (highest first), then sequence order', async () => {
    const ids: Record<string, number> = {};
    for (const [name, priority] of [['low', -10], ['a', 0], ['high', 10], ['b', 0], ['top', 999_999]] as const) {
      ids[name] = (await q.enqueue('order', job(name, priority))).sequence;
    }
    assert.ok(ids['a']! < ids['b']!, 'sequences increase in enqueue order');
    const order: string[] = [];
    for (let c = await claim('order'); c; c = await claim('order')) order.push(JSON.parse(c.json) as string);
    assert.deepEqual(order, ['top', 'high', 'a', 'b', 'low']);
  });

  it('a claim carries id, payload, priority, sequence, attempts, lease and enqueue time from the server clock', async () => {
    const { id, sequence } = await q.enqueue('fields', job({ task: 1 }, 5));
    const [seconds] = await admin.time();
    const c = (await claim('fields', 10_000))!;
    assert.equal(c.id, id);
    assert.equal(c.sequence, sequence);
    assert.deepEqual(JSON.parse(c.json), { task: 1 });
    assert.equal(c.priority, 5);
    assert.equal(c.attempts, 1);
    assert.ok(Math.abs(c.leaseUntil - c.enqueuedAt - 10_000) < 5_000);
    assert.ok(Math.abs(c.enqueuedAt - Number(seconds) * 1000) < 5_000);
    assert.equal(await q.settle('fields', id, c.leaseId, { kind: 'ack' }), true);
  });

  it('an ended lease comes back to waiting during a claim, attempts counted; the stale leaseId cannot settle', async () => {
    await q.enqueue('lease', job('x'));
    // The second claim must come inside the lease: 2 s of room on a loaded machine, not 50 ms.
    const first = (await claim('lease', 2_000))!;
    assert.equal(await claim('lease'), null, 'invisible while leased');
    await sleep(Math.max(0, first.leaseUntil - Date.now()) + 100);
    const second = (await claim('lease'))!;
    assert.equal(second.id, first.id);
    assert.equal(second.attempts, 2);
    assert.notEqual(second.leaseId, first.leaseId);
    for (const action of [{ kind: 'ack' }, { kind: 'nack', delayMs: 0 }, { kind: 'extend', leaseMs: 1000 }] as const) {
      assert.equal(await q.settle('lease', first.id, first.leaseId, action), false, `stale ${action.kind} is refused`);
    }
    assert.equal(await q.settle('lease', second.id, second.leaseId, { kind: 'ack' }), true);
    assert.equal(await q.settle('lease', second.id, second.leaseId, { kind: 'ack' }), false, 'a second ack finds nothing');
  });

  it('extend keeps a job leased past its first lease end; nack returns it at once or after a delay', async () => {
    await q.enqueue('settle', job('y'));
    // The extend must land inside the first lease: 2 s of room on a loaded machine, not 80 ms.
    const c = (await claim('settle', 2_000))!;
    assert.equal(await q.settle('settle', c.id, c.leaseId, { kind: 'extend', leaseMs: 30_000 }), true);
    await sleep(Math.max(0, c.leaseUntil - Date.now()) + 100);
    assert.equal(await claim('settle'), null, 'still leased after the extend');
    assert.equal((await q.counts('settle')).inFlight, 1);
    assert.equal(await q.settle('settle', c.id, c.leaseId, { kind: 'nack', delayMs: 0 }), true);
    const again = (await claim('settle'))!;
    assert.equal(again.attempts, 2);
    assert.equal(await q.settle('settle', again.id, again.leaseId, { kind: 'nack', delayMs: 30_000 }), true);
    assert.deepEqual(await q.counts('settle'), { waiting: 0, inFlight: 0, delayed: 1, dead: 0 });
    assert.equal(await claim('settle'), null, 'delayed by the nack');
  });

  it('a delayed job becomes visible when its delay has passed', async () => {
    // The claim and the count must come before the job is due: 2 s of room, not 80 ms.
    const enqueuedAt = Date.now();
    await q.enqueue('delay', job('later', 0, 2_000));
    assert.equal(await claim('delay'), null);
    assert.deepEqual(await q.counts('delay'), { waiting: 0, inFlight: 0, delayed: 1, dead: 0 });
    await sleep(Math.max(0, enqueuedAt + 2_000 - Date.now()) + 100);
    assert.equal((await q.counts('delay')).waiting, 1, 'a due delayed job counts as waiting');
    assert.equal(JSON.parse((await claim('delay'))!.json), 'later');
  });

  it('maxAttempts moves a job to the dead letters during a claim; reviveDead retries (attempts reset) or deletes', async () => {
    const { id } = await q.enqueue('dlq', job('poison'));
    await q.enqueue('dlq', job('fine'));
    for (let i = 0; i < 2; i++) {
      const c = (await claim('dlq', 30_000, 2))!;
      assert.equal(c.id, id);
      await q.settle('dlq', c.id, c.leaseId, { kind: 'nack', delayMs: 0 });
    }
    const next = (await claim('dlq', 30_000, 2))!;
    assert.equal(JSON.parse(next.json), 'fine', 'the poison job went to the dead letters, the next was claimed');
    assert.deepEqual(await q.counts('dlq'), { waiting: 0, inFlight: 1, delayed: 0, dead: 1 });
    const dead = await q.jobs('dlq', { state: 'dead', limit: 10 });
    assert.deepEqual(dead.map((j) => [j.id, j.attempts, j.state]), [[id, 2, 'dead']]);
    assert.equal(await q.reviveDead('dlq', id, 'retry'), true);
    assert.equal(await q.reviveDead('dlq', id, 'retry'), false, 'no longer a dead letter');
    const revived = (await claim('dlq', 30_000, 2))!;
    assert.equal(revived.id, id);
    assert.equal(revived.attempts, 1, 'attempts reset to 0 by the retry');
    await q.settle('dlq', revived.id, revived.leaseId, { kind: 'nack', delayMs: 0 });
    await q.settle('dlq', id, (await claim('dlq', 30_000, 2))!.leaseId, { kind: 'nack', delayMs: 0 });
    assert.equal(await claim('dlq', 30_000, 2), null);
    assert.equal(await q.reviveDead('dlq', id, 'delete'), true);
    assert.equal((await q.counts('dlq')).dead, 0);
  });

  it('jobs() pages every job by sequence with its state; names() lists queues that hold jobs', async () => {
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await q.enqueue('paged', job(i, 0, i === 4 ? 60_000 : undefined))).sequence);
    const c = (await claim('paged'))!;
    const first = await q.jobs('paged', { limit: 3 });
    assert.deepEqual(first.map((j) => j.sequence), seqs.slice(0, 3));
    assert.equal(first[0]!.state, 'in-flight');
    assert.equal(first[0]!.visibleAt, c.leaseUntil);
    const rest = await q.jobs('paged', { afterSequence: first[2]!.sequence, limit: 10 });
    assert.deepEqual(rest.map((j) => [j.sequence, j.state]), [[seqs[3], 'waiting'], [seqs[4], 'delayed']]);
    assert.deepEqual((await q.jobs('paged', { state: 'waiting', limit: 10 })).map((j) => j.sequence), seqs.slice(1, 4));
    assert.ok((await q.names()).includes('paged'));
    for (let j = await claim('paged'); j; j = await claim('paged')) await q.settle('paged', j.id, j.leaseId, { kind: 'ack' });
    await q.settle('paged', c.id, c.leaseId, { kind: 'ack' });
    assert.ok((await q.names()).includes('paged'), 'the delayed job is still there');
    await admin.zadd(`agent-state:{${ns}}:q:paged:delayed`, 0, String(seqs[4]).padStart(15, '0'));
    const last = (await claim('paged'))!;
    await q.settle('paged', last.id, last.leaseId, { kind: 'ack' });
    assert.ok(!(await q.names()).includes('paged'), 'an empty queue is not listed');
  });

  it('16 processes racing to claim one job: exactly one wins', async () => {
    const { id } = await q.enqueue('race', job('prize'));
    const results = (await race(ns, 16, 'claim', { queue: 'race' })) as (ClaimedJob | null)[];
    const winners = results.filter((r) => r !== null);
    assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
    assert.equal(winners[0]!.id, id);
  });

  it('acked jobs leave nothing behind: 10,000 short-lived jobs bring the storage count back to where it was', async () => {
    await q.enqueue('retain', job('warm-up'));
    const w = (await claim('retain'))!;
    await q.settle('retain', w.id, w.leaseId, { kind: 'ack' });
    const before = await storageCount({ url: REDIS_URL, namespace: ns });
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => q.enqueue('retain', job(i, i % 3))));
      const claimed = await Promise.all(Array.from({ length: 100 }, () => claim('retain')));
      await Promise.all(claimed.map((c) => q.settle('retain', c!.id, c!.leaseId, { kind: 'ack' })));
    }
    assert.deepEqual(await q.counts('retain'), { waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    assert.equal(await storageCount({ url: REDIS_URL, namespace: ns }), before);
  });
});
