import assert from 'node:assert/strict';
import { openState, type AcquiredLease, type StateClient } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { RedisBackend } from '../src/index.js';
import { dropNamespace, freshNamespace, namespaceKeys, REDIS_URL } from './helpers/redis.js';
import { startWorker } from './helpers/workers.js';
import { Redis } from 'ioredis';

/** Bound on waiting for something another process does. */
const DEADLINE_MS = 20_000;

describe('locks: takeover records and release wakeups', () => {
  const ns = freshNamespace('lk');
  const base = `agent-state:{${ns}}:`;
  const admin = new Redis(REDIS_URL);
  let state: StateClient;
  let backend: RedisBackend;

  beforeAll(async () => {
    state = await openState({ config: { backend: 'redis', namespace: ns, settings: { redis_url: REDIS_URL } }, env: {} });
    backend = backendOf(state) as unknown as RedisBackend;
  });
  afterAll(async () => {
    await state.close();
    await dropNamespace(ns);
    assert.deepEqual(await namespaceKeys(admin, ns), []);
    admin.disconnect();
  });

  /** Waits until the lease key is gone (Redis dropped it at the lease's end). */
  async function lapsed(resource: string): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while ((await admin.exists(`${base}l:${resource}`)) === 1) {
      assert.ok(Date.now() < deadline, `the lease of ${resource} never ran out`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('a lease that ran out without a release is reported as replaced, with the end its last extend gave it', async () => {
    const first = (await backend.tryLock('tk/a', { ttlMs: 60_000, owner: 'one' }))!;
    const extended = await backend.extendLock(first, 50);
    await lapsed('tk/a');
    const second = (await backend.tryLock('tk/a', { ttlMs: 60_000, owner: 'two' })) as AcquiredLease;
    assert.ok(second.token > first.token);
    assert.deepEqual(second.replaced, { resource: 'tk/a', owner: 'one', token: first.token, expiresAt: extended.expiresAt });
    await backend.releaseLock(second);
  });

  it('a released lease is no takeover: the next acquire has no replaced, and the holder record is gone', async () => {
    const first = (await backend.tryLock('tk/b', { ttlMs: 60_000, owner: 'one' }))!;
    await backend.releaseLock(first);
    assert.equal(await admin.exists(`${base}h:tk/b`), 0);
    const second = (await backend.tryLock('tk/b', { ttlMs: 60_000, owner: 'two' })) as AcquiredLease;
    assert.equal('replaced' in second, false);
    assert.equal(second.token, first.token + 1);
    await backend.releaseLock(second);
  });

  it('a refused release of a lapsed lease keeps its record, so the lapse is still reported', async () => {
    const first = (await backend.tryLock('tk/c', { ttlMs: 30, owner: 'one' }))!;
    await lapsed('tk/c');
    await assert.rejects(backend.releaseLock(first), { name: 'LockLostError' });
    const second = (await backend.tryLock('tk/c', { ttlMs: 60_000, owner: 'two' })) as AcquiredLease;
    assert.equal(second.replaced?.owner, 'one');
    await backend.releaseLock(second);
  });

  it('a store whose locks predate holder records (a bare counter, no record) keeps counting, with no takeover', async () => {
    // What a release by an earlier release of this package leaves: the counter alone.
    await admin.set(`${base}f:tk/old`, '41');
    const lease = (await backend.tryLock('tk/old', { ttlMs: 60_000, owner: 'new' })) as AcquiredLease;
    assert.equal(lease.token, 42);
    assert.equal('replaced' in lease, false);
    await backend.releaseLock(lease);
    assert.equal(await admin.get(`${base}f:tk/old`), '42');
  });

  it('a lease key removed by hand before its end is not reported as a lapse', async () => {
    const first = (await backend.tryLock('tk/d', { ttlMs: 60_000, owner: 'one' }))!;
    await admin.del(`${base}l:tk/d`);
    const second = (await backend.tryLock('tk/d', { ttlMs: 60_000, owner: 'two' })) as AcquiredLease;
    assert.ok(second.token > first.token);
    assert.equal('replaced' in second, false);
    await backend.releaseLock(second);
  });

  it('declares lockWake, and a release in another process wakes a lock listener in this one', async () => {
    assert.equal(backend.capabilities.coordination?.lockWake, true);
    const lease = (await backend.tryLock('tk/wake', { ttlMs: 60_000, owner: 'here' }))!;
    let woken!: () => void;
    const wakeup = new Promise<void>((resolve) => (woken = resolve));
    const stop = await backend.notify.listen({ kind: 'lock', name: 'tk/wake' }, () => woken());
    const worker = startWorker(ns, 'release', { lease });
    try {
      await worker.ready;
      worker.go();
      assert.equal(await worker.result, 'released');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        wakeup,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no wakeup within ${DEADLINE_MS} ms of the release`)), DEADLINE_MS))),
      ]).finally(() => clearTimeout(timer));
      assert.equal(await admin.exists(`${base}l:tk/wake`), 0);
    } finally {
      await stop();
    }
  });

  it('a waiting state.lock() in this process takes the lock released by another process', async () => {
    const lease = (await backend.tryLock('tk/handoff', { ttlMs: 60_000, owner: 'there' }))!;
    const worker = startWorker(ns, 'release', { lease });
    await worker.ready;
    const waiting = state.lock('tk/handoff', { waitMs: DEADLINE_MS });
    worker.go();
    const lock = await waiting;
    assert.ok(lock.token > lease.token);
    await lock.release();
  });
});
