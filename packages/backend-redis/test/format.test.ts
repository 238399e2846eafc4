import assert from 'node:assert/strict';
import { ConflictError, InvalidConfigError, openState } from '@agent-state/core';
import { Redis } from 'ioredis';
import { afterAll, describe, it, vi } from 'vitest';
import { encodeEntry, encodeEntryV2 } from '../src/codec.js';
import { STORE_FORMAT } from '../src/format.js';
import { dropNamespace, freshNamespace, REDIS_URL } from './helpers/redis.js';

describe('store format and the in-place upgrade of first-wave stores', () => {
  const admin = new Redis(REDIS_URL);
  const used: string[] = [];
  afterAll(async () => {
    for (const ns of used) await dropNamespace(ns);
    admin.disconnect();
  });
  const open = (namespace: string) => openState({ config: { backend: 'redis', namespace, settings: { redis_url: REDIS_URL } }, env: {} });

  it('a new namespace gets the format marker and a floor of 0, silently', async () => {
    const ns = freshNamespace('format');
    used.push(ns);
    const stderr = vi.spyOn(process.stderr, 'write');
    try {
      await using state = await open(ns);
      assert.equal((await state.write('a', 1)).version, 1);
      assert.equal(stderr.mock.calls.filter((c) => String(c[0]).includes('upgraded')).length, 0);
    } finally {
      stderr.mockRestore();
    }
    assert.equal(await admin.hget(`agent-state:{${ns}}:meta`, 'format'), String(STORE_FORMAT));
  });

  it('a first-wave store (no marker) is upgraded once: the floor goes above every existing version, said once on stderr', async () => {
    const ns = freshNamespace('format');
    used.push(ns);
    const base = `agent-state:{${ns}}:`;
    // A first-wave store with more entries than one upgrade page, the highest version in the middle.
    const pipeline = admin.pipeline();
    for (let i = 0; i < 2_500; i++) {
      const version = i === 1_234 ? 77 : 3;
      pipeline.set(`${base}k:old/${String(i).padStart(4, '0')}`, encodeEntry(version, 1, undefined, String(i)));
      pipeline.zadd(`${base}idx`, 0, `old/${String(i).padStart(4, '0')}`);
    }
    await pipeline.exec();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await using state = await open(ns);
      await using again = await open(ns);
      const said = stderr.mock.calls.filter((c) => String(c[0]).includes('upgraded'));
      assert.equal(said.length, 1, 'said once, by the client that upgraded');
      assert.match(String(said[0]![0]), /version floor set to 77/);
      assert.equal((await state.read('old/0007'))?.value, 7, 'existing entries are read as before');
      const stale = await state.read('old/0001');
      assert.equal(await state.delete('old/0001'), true);
      const fresh = await again.write('old/0001', 'new');
      assert.ok(fresh.version > 77, `a re-created key starts above every version of the old store, got ${fresh.version}`);
      await assert.rejects(state.write('old/0001', 'stale', { ifVersion: stale!.version }), ConflictError);
    } finally {
      stderr.mockRestore();
    }
  });

  it("a first-wave store's portable queues, mailboxes and channels are moved into the native layout, keeping order, seqs and states", async () => {
    const ns = freshNamespace('format');
    used.push(ns);
    const base = `agent-state:{${ns}}:`;
    const [seconds] = await admin.time();
    const now = Number(seconds) * 1000;
    const entry = (key: string, version: number, value: unknown) => [
      admin.set(`${base}k:${key}`, encodeEntry(version, now, undefined, JSON.stringify(value))),
      admin.zadd(`${base}idx`, 0, key),
    ];
    const job = (sequence: number, priority: number, extra: object = {}) => ({
      payload: { task: sequence },
      priority,
      sequence,
      attempts: 0,
      enqueuedAt: now - 1000,
      visibleAt: now - 1000,
      lease: null,
      ...extra,
    });
    const jobId = (priority: number, sequence: number) => `${String(1_000_000 - priority).padStart(7, '0')}-${String(sequence).padStart(15, '0')}`;
    await Promise.all([
      ...entry('@q/work/seq', 5, 5),
      ...entry(`@q/work/j/${jobId(0, 1)}`, 1, job(1, 0)),
      ...entry(`@q/work/j/${jobId(10, 2)}`, 1, job(2, 10)),
      ...entry(`@q/work/j/${jobId(0, 3)}`, 2, job(3, 0, { attempts: 1, visibleAt: now + 600_000, lease: { id: 'abc123', owner: 'x', until: now + 600_000 } })),
      ...entry(`@q/work/j/${jobId(0, 4)}`, 1, job(4, 0, { visibleAt: now + 600_000 })),
      ...entry(`@q/work/dead/${jobId(0, 5)}`, 3, job(5, 0, { attempts: 3 })),
      ...entry('@mail/agent-1/seq', 3, 3),
      ...entry('@mail/agent-1/m/000000000000001', 1, { from: 'a', to: 'agent-1', message: 'one', priority: 0, sentAt: now - 10 }),
      ...entry('@mail/agent-1/m/000000000000003', 1, { from: 'a', to: 'agent-1', message: 'three', priority: 0, sentAt: now - 5 }),
      ...entry('@ch/news/seq', 2, 2),
      ...entry('@ch/news/m/000000000000002', 1, { message: 'hello', publishedAt: now - 1, publisher: 'p' }),
      ...entry('user/key', 9, 'kept'),
    ]);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let said: string;
    try {
      await using state = await open(ns);
      said = String(stderr.mock.calls.find((c) => String(c[0]).includes('upgraded'))?.[0]);
      const { queues, logs } = state.backend;
      assert.deepEqual(await queues!.counts('work'), { waiting: 2, inFlight: 1, delayed: 1, dead: 1 });
      const first = (await queues!.claim('work', { leaseMs: 10_000, owner: 't' }))!;
      assert.deepEqual([first.sequence, first.priority, JSON.parse(first.json)], [2, 10, { task: 2 }]);
      assert.equal((await queues!.claim('work', { leaseMs: 10_000, owner: 't' }))!.sequence, 1);
      assert.equal(await queues!.settle('work', String(3).padStart(15, '0'), 'abc123', { kind: 'ack' }), true, 'a first-wave lease can still settle its job');
      assert.ok((await queues!.enqueue('work', { json: '1', priority: 0 })).sequence > 5, 'queue sequences go on above the first wave');
      const mail = await logs!.read('mail/agent-1', { after: 0, limit: 10 });
      assert.deepEqual(mail.map((r) => [r.seq, JSON.parse(r.json).message, r.at]), [[1, 'one', now - 10], [3, 'three', now - 5]]);
      assert.equal(await logs!.lastSeq('mail/agent-1'), 3);
      assert.deepEqual((await logs!.append('mail/agent-1', ['"four"'])).map((a) => a.seq), [4]);
      assert.deepEqual((await logs!.read('ch/news', { after: 0, limit: 10 })).map((r) => r.seq), [2]);
      assert.deepEqual(await admin.zrange(`${base}idx`, 0, -1), ['user/key'], 'no first-wave coordination entry is left');
      assert.equal((await state.write('user/key', 'new')).version, 10);
    } finally {
      stderr.mockRestore();
    }
    assert.match(said, /moved 1 first-wave queue\(s\) and 2 channel\/mailbox log\(s\)/);
  });

  it('a format-2 store is upgraded on open by its marker alone, said once on stderr; its entries stay readable and damage in them is still refused', async () => {
    const ns = freshNamespace('format');
    used.push(ns);
    const base = `agent-state:{${ns}}:`;
    await admin.hset(`${base}meta`, 'format', '2', 'floor', '7');
    await admin.set(`${base}k:old`, encodeEntryV2(5, 1, undefined, '{"kept":true}'));
    await admin.set(`${base}k:torn`, encodeEntryV2(6, 1, undefined, '{"torn":'));
    await admin.zadd(`${base}idx`, 0, 'old', 0, 'torn');
    const stderr = vi.spyOn(process.stderr, 'write');
    let said: string[];
    try {
      await using first = await open(ns);
      await using second = await open(ns);
      said = stderr.mock.calls.map((c) => String(c[0])).filter((line) => line.includes('upgraded'));
      assert.deepEqual((await second.read('old'))?.value, { kept: true });
      await assert.rejects(first.write('torn', 1), (e: unknown) => e instanceof Error && e.name === 'CorruptDataError');
      assert.equal(await admin.get(`${base}k:torn`), encodeEntryV2(6, 1, undefined, '{"torn":'), 'a damaged format-2 entry is left as is');
      const rewritten = await first.write('old', { kept: 'again' }, { ifVersion: 5 });
      assert.equal(rewritten.version, 6);
      assert.equal(await admin.get(`${base}k:old`), encodeEntry(6, rewritten.updatedAt, undefined, '{"kept":"again"}'), 'rewritten with its digest');
      assert.equal((await first.write('fresh', 1)).version, 8, 'the floor is kept');
    } finally {
      stderr.mockRestore();
    }
    assert.equal(said.length, 1, 'said once, by the client that upgraded');
    assert.match(said[0]!, new RegExp(`from format 2 to format ${STORE_FORMAT}`));
    assert.equal(await admin.hget(`${base}meta`, 'format'), String(STORE_FORMAT));
  });

  it('a store of a newer format is refused with INVALID_CONFIG naming both formats, and left untouched', async () => {
    const ns = freshNamespace('format');
    used.push(ns);
    await admin.hset(`agent-state:{${ns}}:meta`, 'format', String(STORE_FORMAT + 1));
    await assert.rejects(open(ns), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError, String(e));
      assert.match(e.message, new RegExp(`format ${STORE_FORMAT + 1}.*format ${STORE_FORMAT}`));
      return true;
    });
    assert.equal(await admin.hget(`agent-state:{${ns}}:meta`, 'format'), String(STORE_FORMAT + 1));
  });
});
