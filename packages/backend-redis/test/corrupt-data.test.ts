import assert from 'node:assert/strict';
import { ConflictError, CorruptDataError, openState, type StateClient } from '@agent-state/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { dropNamespace, freshNamespace, REDIS_URL } from './helpers/redis.js';

describe('damaged data', () => {
  const ns = freshNamespace('corrupt');
  const admin = new Redis(REDIS_URL);
  let state: StateClient;
  const key = (k: string) => `agent-state:{${ns}}:k:${k}`;
  const meta = `agent-state:{${ns}}:meta`;

  beforeAll(async () => {
    state = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
  });
  afterAll(async () => {
    await state.close();
    await dropNamespace(ns);
    admin.disconnect();
  });

  const isCorrupt = (location: string) => (e: unknown) => {
    assert.ok(e instanceof CorruptDataError, String(e));
    assert.equal(e.location, location);
    return true;
  };

  // Every operation refusing a value that is not JSON, and repair past it, are the contract's
  // damaged-data group (test/damage.ts). Here: the error names the Redis key.
  it('a value that is not JSON is a CorruptDataError naming its Redis key on read, readMany and list', async () => {
    await state.write('bad/json', 1);
    await admin.set(key('bad/json'), '1:1::{not json');
    await assert.rejects(state.read('bad/json'), isCorrupt(key('bad/json')));
    await assert.rejects(state.readMany(['bad/json', 'other']), isCorrupt(key('bad/json')));
    await assert.rejects(state.list({ prefix: 'bad/' }).next(), isCorrupt(key('bad/json')));
  });

  it('a value JSON.parse refuses but a lenient parser takes (Infinity) is refused by a write too', async () => {
    await state.write('bad/inf', 1);
    await admin.set(key('bad/inf'), '1:1::Infinity');
    await assert.rejects(state.read('bad/inf'), isCorrupt(key('bad/inf')));
    await assert.rejects(state.write('bad/inf', 2), isCorrupt(key('bad/inf')));
    assert.equal(await admin.get(key('bad/inf')), '1:1::Infinity');
    assert.equal(await admin.eval("return tostring(cjson.decode_invalid_numbers())", 0), 'true', "the server's shared cjson setting is put back");
  });

  it('an entry without a readable header is refused by write, delete, update, increment and transactions, and left as is', async () => {
    await admin.set(key('bad/ver'), 'x:1::1');
    await admin.zadd(`agent-state:{${ns}}:idx`, 0, 'bad/ver');
    await assert.rejects(state.read('bad/ver'), CorruptDataError);
    await assert.rejects(state.write('bad/ver', 2), isCorrupt(key('bad/ver')));
    await assert.rejects(state.increment('bad/ver'), isCorrupt(key('bad/ver')));
    await assert.rejects(state.delete('bad/ver'), isCorrupt(key('bad/ver')));
    await assert.rejects(state.delete('bad/ver', { ifVersion: 1 }), isCorrupt(key('bad/ver')));
    await assert.rejects(state.update('bad/ver', () => 3), isCorrupt(key('bad/ver')));
    await assert.rejects(state.transaction((tx) => tx.write('bad/ver', 3)), isCorrupt(key('bad/ver')));
    await assert.rejects(state.transaction((tx) => tx.delete('bad/ver')), isCorrupt(key('bad/ver')));
    assert.equal(await admin.get(key('bad/ver')), 'x:1::1', 'never overwritten silently');
  });

  it('format 3: a value that no longer has its digest is refused by every script even when it is still JSON (same length), and repair names it', async () => {
    const written = await state.write('bad/digest', { n: 12 });
    const stored = (await admin.get(key('bad/digest')))!;
    const header = /^\d+:\d+::[0-9a-f]{16}:/.exec(stored)![0];
    assert.equal(stored.slice(header.length), '{"n":12}', 'the header carries the digest, then the JSON');
    const altered = `${header}{"n":13}`;
    await admin.set(key('bad/digest'), altered);
    // A read parses the JSON (its check) and does not hash; everything that would overwrite or
    // remove the value compares the digest and refuses.
    assert.deepEqual((await state.read('bad/digest'))?.value, { n: 13 });
    await assert.rejects(state.write('bad/digest', 1), isCorrupt(key('bad/digest')));
    await assert.rejects(state.write('bad/digest', 1, { ifVersion: written.version }), isCorrupt(key('bad/digest')));
    await assert.rejects(state.delete('bad/digest'), isCorrupt(key('bad/digest')));
    await assert.rejects(state.transaction((tx) => tx.write('bad/digest', 3)), isCorrupt(key('bad/digest')));
    assert.equal(await admin.get(key('bad/digest')), altered, 'never overwritten');
    await admin.set(key('bad/num'), `${header}13`);
    await assert.rejects(state.increment('bad/num'), isCorrupt(key('bad/num')));
    const report = await state.backend.repair!('bad/digest');
    assert.equal(report.removed, true);
    assert.match(report.damage ?? '', /digest/);
    assert.ok((await state.write('bad/digest', 1)).version > written.version);
    await admin.del(key('bad/num'));
  });

  it('format-2 entries (no digest) are still read, overwritten and checked by their JSON', async () => {
    await admin.set(key('old/ok'), '4:1::{"a":1}');
    await admin.zadd(`agent-state:{${ns}}:idx`, 0, 'old/ok');
    assert.deepEqual(await state.read('old/ok'), { key: 'old/ok', value: { a: 1 }, version: 4, updatedAt: 1 });
    assert.equal((await state.increment('old/n', 1)), 1);
    await admin.set(key('old/n'), '2:1::41');
    assert.equal(await state.increment('old/n', 1), 42);
    assert.match((await admin.get(key('old/n')))!, /^3:\d+::[0-9a-f]{16}:42$/, 'rewritten in format 3');
    assert.equal((await state.write('old/ok', 2, { ifVersion: 4 })).version, 5);
    assert.match((await admin.get(key('old/ok')))!, /^5:\d+::[0-9a-f]{16}:2$/);
    await admin.set(key('old/bad'), '2:1::{"torn":');
    await assert.rejects(state.write('old/bad', 1), isCorrupt(key('old/bad')));
    assert.equal(await admin.get(key('old/bad')), '2:1::{"torn":');
    await state.backend.repair!('old/bad');
  });

  it('repair of a value that is not JSON says so', async () => {
    await state.write('fix/me', 'good');
    await admin.set(key('fix/me'), '1:1::{not json');
    const report = await state.backend.repair!('fix/me');
    assert.equal(report.removed, true);
    assert.match(report.damage ?? '', /not JSON/);
  });

  it('repair of an entry whose version is unreadable raises the floor by a wide margin', async () => {
    const before = Number((await admin.hget(meta, 'floor')) ?? '0');
    await admin.set(key('fix/header'), 'x:1::1');
    const report = await state.backend.repair!('fix/header');
    assert.equal(report.removed, true);
    assert.ok(Number(await admin.hget(meta, 'floor')) >= before + 2 ** 20);
  });

  it('repair leaves a healthy or absent entry alone', async () => {
    const entry = await state.write('fix/healthy', 1);
    assert.deepEqual(await state.backend.repair!('fix/healthy'), { key: 'fix/healthy', removed: false });
    assert.equal((await state.read('fix/healthy'))?.version, entry.version);
    assert.deepEqual(await state.backend.repair!('fix/absent'), { key: 'fix/absent', removed: false });
  });

  it('a key of another Redis type is a CorruptDataError naming it, is not overwritten, and repair removes it', async () => {
    await admin.hset(key('bad/type'), 'field', 'value');
    await admin.zadd(`agent-state:{${ns}}:idx`, 0, 'bad/type');
    await assert.rejects(state.read('bad/type'), isCorrupt(key('bad/type')));
    await assert.rejects(state.write('bad/type', 1), isCorrupt(key('bad/type')));
    await assert.rejects(state.write('bad/type', 1, { ifVersion: 'absent' }), isCorrupt(key('bad/type')));
    await assert.rejects(state.delete('bad/type'), isCorrupt(key('bad/type')));
    await assert.rejects(state.list({ prefix: 'bad/type' }).next(), isCorrupt(key('bad/type')));
    assert.deepEqual(await admin.hgetall(key('bad/type')), { field: 'value' });
    const report = await state.backend.repair!('bad/type');
    assert.equal(report.removed, true);
    assert.match(report.damage ?? '', /hash/);
    assert.equal(await admin.exists(key('bad/type')), 0);
    assert.equal(await admin.zscore(`agent-state:{${ns}}:idx`, 'bad/type'), null);
  });

  it('a CAS against a healthy entry still reports the actual version', async () => {
    const written = await state.write('ok', 1);
    await assert.rejects(state.write('ok', 2, { ifVersion: 7 }), (e: unknown) => e instanceof ConflictError && e.actual === written.version && e.expected === 7);
  });
});
