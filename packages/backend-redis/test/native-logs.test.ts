import assert from 'node:assert/strict';
import { openState, sleep, type NativeLogs, type StateClient } from '@agent-state/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { storageCount } from '../src/index.js';
import { dropNamespace, freshNamespace, namespaceKeys, REDIS_URL } from './helpers/redis.js';
import { race } from './helpers/workers.js';

describe('native logs (Streams)', () => {
  const ns = freshNamespace('nlog');
  const admin = new Redis(REDIS_URL);
  let state: StateClient;
  let logs: NativeLogs;
  const records = (n: number, tag = 'r') => Array.from({ length: n }, (_, i) => JSON.stringify({ tag, i }));

  beforeAll(async () => {
    state = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
    logs = state.backend.logs!;
  });
  afterAll(async () => {
    await state.close();
    await dropNamespace(ns);
    assert.deepEqual(await namespaceKeys(admin, ns), []);
    admin.disconnect();
  });

  it('append gives consecutive seqs from 1 and one server time; read returns records after a seq, oldest first', async () => {
    const appended = await logs.append('log/basic', records(3));
    assert.deepEqual(appended.map((a) => a.seq), [1, 2, 3]);
    assert.equal(new Set(appended.map((a) => a.at)).size, 1);
    const [seconds] = await admin.time();
    assert.ok(Math.abs(appended[0]!.at - Number(seconds) * 1000) < 5_000, 'at comes from the server clock');
    const read = await logs.read('log/basic', { after: 1, limit: 10 });
    assert.deepEqual(read.map((r) => [r.seq, JSON.parse(r.json).i]), [[2, 1], [3, 2]]);
    assert.deepEqual((await logs.read('log/basic', { after: 0, limit: 2 })).map((r) => r.seq), [1, 2]);
    assert.deepEqual(await logs.read('log/never', { after: 0, limit: 10 }), []);
    assert.equal(await logs.lastSeq('log/never'), 0);
  });

  it('trim by before, keepLast and age; lastSeq survives every trim and new seqs continue above it', async () => {
    await logs.append('log/trim', records(10));
    assert.equal(await logs.trim('log/trim', { before: 4 }), 3);
    assert.equal((await logs.read('log/trim', { after: 0, limit: 100 }))[0]!.seq, 4);
    assert.equal(await logs.trim('log/trim', { keepLast: 2 }), 5);
    assert.deepEqual((await logs.read('log/trim', { after: 0, limit: 100 })).map((r) => r.seq), [9, 10]);
    // The new record must still be younger than olderThanMs when the trim runs: 1 s of room for
    // one append on a loaded machine, not 40 ms.
    await sleep(1_100);
    await logs.append('log/trim', records(1));
    assert.equal(await logs.trim('log/trim', { olderThanMs: 1_000 }), 2, 'the two old records went, the new one stays');
    assert.deepEqual((await logs.read('log/trim', { after: 0, limit: 100 })).map((r) => r.seq), [11]);
    assert.equal(await logs.trim('log/trim', { keepLast: 0 }), 1);
    assert.equal(await logs.lastSeq('log/trim'), 11, 'lastSeq survives a trim to nothing');
    assert.deepEqual((await logs.append('log/trim', records(1))).map((a) => a.seq), [12]);
  });

  it('remove drops given records (a mailbox ack) and says how many existed', async () => {
    await logs.append('mail/agent-1', records(4));
    assert.equal(await logs.remove('mail/agent-1', [2, 3, 99]), 2);
    assert.deepEqual((await logs.read('mail/agent-1', { after: 0, limit: 10 })).map((r) => r.seq), [1, 4]);
  });

  it('names(prefix) lists logs that hold records, in key order; an emptied log leaves the list', async () => {
    await logs.append('ch/b', records(1));
    await logs.append('ch/a', records(1));
    await logs.append('chx', records(1));
    assert.deepEqual(await logs.names('ch/'), ['ch/a', 'ch/b']);
    await logs.trim('ch/a', { keepLast: 0 });
    assert.deepEqual(await logs.names('ch/'), ['ch/b']);
    assert.ok((await logs.names('')).includes('chx'));
  });

  it('append with retention trims in the same call (maxLen exactly, maxAgeMs by server time)', async () => {
    for (let i = 0; i < 5; i++) await logs.append('log/ret', records(3), { retention: { maxLen: 4 } });
    assert.deepEqual((await logs.read('log/ret', { after: 0, limit: 100 })).map((r) => r.seq), [12, 13, 14, 15]);
    await logs.append('log/age', records(5), { retention: { maxAgeMs: 50 } });
    await sleep(100);
    await logs.append('log/age', records(1), { retention: { maxAgeMs: 50 } });
    assert.deepEqual((await logs.read('log/age', { after: 0, limit: 100 })).map((r) => r.seq), [6]);
  });

  it('the sweeper drops records past their age retention even when nobody appends any more, leaving nothing behind', async () => {
    // A namespace of its own: the sweeper also trims the other tests' logs, which would move the count.
    const ns = freshNamespace('nsweep');
    const own = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
    try {
      const logs = own.backend.logs!;
      await logs.append('ch/idle', records(1), { retention: { maxAgeMs: 50 } });
      await sleep(100);
      await logs.trim('ch/idle', { olderThanMs: 50 });
      const before = await storageCount({ url: REDIS_URL, namespace: ns });
      await logs.append('ch/idle', records(200), { retention: { maxAgeMs: 100 } });
      assert.equal(await admin.hget(`agent-state:{${ns}}:gret`, 'ch/idle'), '100', 'the retention is recorded for the sweeper');
      // The backend's own timer sweeps once a second; wait for it, within a deadline.
      const deadline = performance.now() + 20_000;
      while ((await admin.xlen(`agent-state:{${ns}}:g:ch/idle`)) > 0) {
        assert.ok(performance.now() < deadline, 'the sweeper trimmed the expired records within 20 s');
        await sleep(100);
      }
      assert.equal(await storageCount({ url: REDIS_URL, namespace: ns }), before);
      assert.ok(!(await logs.names('ch/')).includes('ch/idle'));
      assert.equal(await logs.lastSeq('ch/idle'), 201);
    } finally {
      await own.close();
      await dropNamespace(ns);
    }
  });

  it('a batch longer than one script call keeps its order and consecutive seqs', async () => {
    const appended = await logs.append('log/big', records(2_500));
    assert.equal(appended.length, 2_500);
    appended.forEach((a, i) => assert.equal(a.seq, i + 1));
  });

  it('appends from 3 processes get strictly increasing, unique seqs with no gap', async () => {
    const results = (await race(ns, 3, 'append', { log: 'log/procs', count: 200 })) as { seq: number; at: number }[][];
    for (const seqs of results) for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]!.seq > seqs[i - 1]!.seq, 'each process sees its seqs increase');
    const all = results.flat().map((a) => a.seq).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 600 }, (_, i) => i + 1), 'unique and without a gap');
    const read: number[] = [];
    for (let after = 0; ; ) {
      const page = await logs.read('log/procs', { after, limit: 128 });
      if (page.length === 0) break;
      read.push(...page.map((r) => r.seq));
      after = page[page.length - 1]!.seq;
    }
    assert.deepEqual(read, all, 'a reader sees every seq once, in order');
  });

  it('trimmed and removed records leave nothing behind: 10,000 short-lived records bring the storage count back', async () => {
    await logs.append('ch/short', records(1));
    await logs.trim('ch/short', { keepLast: 0 });
    await logs.append('mail/short', records(1));
    await logs.remove('mail/short', [1]);
    const before = await storageCount({ url: REDIS_URL, namespace: ns });
    for (let round = 0; round < 50; round++) {
      await logs.append('ch/short', records(100), { retention: { maxLen: 50 } });
      const mail = await logs.append('mail/short', records(100));
      await logs.remove('mail/short', mail.map((m) => m.seq));
    }
    await logs.trim('ch/short', { before: (await logs.lastSeq('ch/short')) + 1 });
    assert.equal(await storageCount({ url: REDIS_URL, namespace: ns }), before);
    assert.equal(await admin.xlen(`agent-state:{${ns}}:g:ch/short`), 0);
  });
});

describe('native notify (pub/sub wakeups)', () => {
  const ns = freshNamespace('nwake');
  let state: StateClient;

  beforeAll(async () => {
    state = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
  });
  afterAll(async () => {
    await state.close();
    await dropNamespace(ns);
  });

  const woken = (timeoutMs = 10_000) => {
    let wake!: () => void;
    const promise = new Promise<'woke'>((resolve) => (wake = () => resolve('woke')));
    return { wake, wait: Promise.race([promise, sleep(timeoutMs).then(() => 'timeout' as const)]) };
  };

  it('enqueue, nack and append wake listeners of their topic in this process, not those of another topic', async () => {
    const { notify, queues, logs } = state.backend;
    const q = woken();
    const other = woken(300);
    const stopQ = await notify!.listen({ kind: 'queue', name: 'wake/q' }, q.wake);
    const stopOther = await notify!.listen({ kind: 'queue', name: 'wake/other' }, other.wake);
    await queues!.enqueue('wake/q', { json: '1', priority: 0 });
    assert.equal(await q.wait, 'woke');
    assert.equal(await other.wait, 'timeout');
    const nack = woken();
    const stopNack = await notify!.listen({ kind: 'queue', name: 'wake/q' }, nack.wake);
    const c = (await queues!.claim('wake/q', { leaseMs: 10_000, owner: 't' }))!;
    await queues!.settle('wake/q', c.id, c.leaseId, { kind: 'nack', delayMs: 0 });
    assert.equal(await nack.wait, 'woke');
    const log = woken();
    const stopLog = await notify!.listen({ kind: 'log', name: 'wake/log' }, log.wake);
    await logs!.append('wake/log', ['"x"']);
    assert.equal(await log.wait, 'woke');
    for (const stop of [stopQ, stopOther, stopNack, stopLog]) await stop();
  });

  it('two listeners subscribing to one channel at once are both woken by the next append', async () => {
    const [x, y] = [woken(), woken()];
    const stops = await Promise.all([
      state.backend.notify!.listen({ kind: 'log', name: 'wake/both' }, x.wake),
      state.backend.notify!.listen({ kind: 'log', name: 'wake/both' }, y.wake),
    ]);
    await state.backend.logs!.append('wake/both', ['1']);
    assert.deepEqual(await Promise.all([x.wait, y.wait]), ['woke', 'woke']);
    for (const stop of stops) await stop();
  });

  it('a listener in another process is woken by an enqueue and by an append', async () => {
    const { startWorker } = await import('./helpers/workers.js');
    const queueListener = startWorker(ns, 'listen', { topic: { kind: 'queue', name: 'wake/far' } });
    const logListener = startWorker(ns, 'listen', { topic: { kind: 'log', name: 'wake/far-log' } });
    await Promise.all([queueListener.ready, logListener.ready]);
    queueListener.go();
    logListener.go();
    await state.backend.queues!.enqueue('wake/far', { json: '1', priority: 0 });
    await state.backend.logs!.append('wake/far-log', ['1']);
    assert.equal(await queueListener.result, 'woke');
    assert.equal(await logListener.result, 'woke');
  });
});
