import assert from 'node:assert/strict';
import { ConflictError, InvalidConfigError, openState } from '@agent-state/core';
import { Redis } from 'ioredis';
import { afterAll, describe, it, vi } from 'vitest';
import { encodeEntry } from '../src/entry.js';
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
