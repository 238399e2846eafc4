import assert from 'node:assert/strict';
import { InvalidValueError, openState, type StateClient } from '@agent-state/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { dropNamespace, freshNamespace, REDIS_URL } from './helpers/redis.js';

describe('native increment', () => {
  const ns = freshNamespace('incr');
  let state: StateClient;
  beforeAll(async () => {
    state = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
  });
  afterAll(async () => {
    await state.close();
    await dropNamespace(ns);
  });

  it('an absent key counts as 0 and each increment bumps the version by one', async () => {
    assert.equal(await state.increment('n'), 1);
    assert.equal(await state.increment('n', 41), 42);
    const entry = await state.read('n');
    assert.equal(entry?.value, 42);
    assert.equal(entry?.version, 2);
    const keys: string[] = [];
    for await (const e of state.list()) keys.push(e.key);
    assert.ok(keys.includes('n'), 'an incremented key is listed');
  });

  it('fractions add up exactly as JavaScript numbers do', async () => {
    await state.increment('f', 0.1);
    assert.equal(await state.increment('f', 0.2), 0.1 + 0.2);
    assert.equal((await state.read('f'))?.value, 0.1 + 0.2);
    await state.write('big', 2 ** 53 - 2);
    assert.equal(await state.increment('big'), 2 ** 53 - 1);
    await state.write('neg', -1);
    assert.equal(await state.increment('neg'), 0);
    assert.ok(Object.is((await state.read('neg'))?.value, 0));
  });

  it('a key holding JSON null is an InvalidValueError and stays as it was (one behaviour on every backend)', async () => {
    const written = await state.write('null', null);
    await assert.rejects(state.increment('null', 3), (e: unknown) => e instanceof InvalidValueError && e.value === null);
    assert.equal((await state.read('null'))?.version, written.version);
  });

  it('a key that does not hold a number is an InvalidValueError and stays as it was', async () => {
    await state.write('text', 'seven');
    await assert.rejects(state.increment('text'), (e: unknown) => e instanceof InvalidValueError && e.value === 'seven');
    const entry = await state.read('text');
    assert.equal(entry?.value, 'seven');
    assert.equal(entry?.version, 1);
    await state.write('huge', Number.MAX_VALUE);
    await assert.rejects(state.increment('huge', Number.MAX_VALUE), InvalidValueError);
  });

  it('increment keeps the expiry of the entry', async () => {
    const written = await state.write('ttl', 1, { ttlMs: 60_000 });
    await state.increment('ttl');
    assert.equal((await state.read('ttl'))?.expiresAt, written.expiresAt);
  });
});
