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

  it('a value that is not JSON is a CorruptDataError on read, readMany and list, never absent', async () => {
    await state.write('bad/json', 1);
    await admin.set(key('bad/json'), '1:1::{not json');
    await assert.rejects(state.read('bad/json'), isCorrupt(key('bad/json')));
    await assert.rejects(state.readMany(['bad/json', 'other']), isCorrupt(key('bad/json')));
    await assert.rejects(state.list({ prefix: 'bad/' }).next(), isCorrupt(key('bad/json')));
  });

  it('an entry without a readable header is refused by write, update, increment and transactions, and left as is', async () => {
    await admin.set(key('bad/ver'), 'x:1::1');
    await admin.zadd(`agent-state:{${ns}}:idx`, 0, 'bad/ver');
    await assert.rejects(state.read('bad/ver'), CorruptDataError);
    await assert.rejects(state.write('bad/ver', 2), isCorrupt(key('bad/ver')));
    await assert.rejects(state.increment('bad/ver'), isCorrupt(key('bad/ver')));
    await assert.rejects(state.delete('bad/ver', { ifVersion: 1 }), isCorrupt(key('bad/ver')));
    await assert.rejects(state.transaction((tx) => tx.write('bad/ver', 3)), isCorrupt(key('bad/ver')));
    assert.equal(await admin.get(key('bad/ver')), 'x:1::1', 'never overwritten silently');
    assert.equal(await state.delete('bad/ver'), true, 'an unconditional delete repairs it');
    assert.equal(await state.read('bad/ver'), null);
  });

  it('a key of another Redis type is a CorruptDataError naming it, and is not overwritten', async () => {
    await admin.hset(key('bad/type'), 'field', 'value');
    await admin.zadd(`agent-state:{${ns}}:idx`, 0, 'bad/type');
    await assert.rejects(state.read('bad/type'), isCorrupt(key('bad/type')));
    await assert.rejects(state.write('bad/type', 1), isCorrupt(key('bad/type')));
    await assert.rejects(state.write('bad/type', 1, { ifVersion: 'absent' }), isCorrupt(key('bad/type')));
    await assert.rejects(state.list({ prefix: 'bad/type' }).next(), isCorrupt(key('bad/type')));
    assert.deepEqual(await admin.hgetall(key('bad/type')), { field: 'value' });
    await admin.del(key('bad/type'));
  });

  it('a CAS against a healthy entry still reports the actual version', async () => {
    await state.write('ok', 1);
    await assert.rejects(state.write('ok', 2, { ifVersion: 7 }), (e: unknown) => e instanceof ConflictError && e.actual === 1 && e.expected === 7);
  });
});
