/**
 * Lock wakeups (lockWake): a release wakes the listeners of the resource's lock topic in other
 * processes (through the topic's bell) and in this one, when someone found the lease taken.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteBackend } from '../src/index.js';
import { NativeFixture } from './native-helpers.js';

let f: NativeFixture;
let b: SqliteBackend;
beforeEach(async () => {
  f = new NativeFixture();
  b = await f.backend();
});
afterEach(() => f.dispose());

describe('lock wakeups', () => {
  it('declares lockWake', () => {
    expect(b.capabilities.coordination?.lockWake).toBe(true);
  });

  it('a release in this process wakes a listener in another process that found the lease taken (by the bell: its re-check is off)', async () => {
    const lease = (await b.tryLock('res/a', { ttlMs: 60_000, owner: 'holder' }))!;
    const w = f.spawn('lockWaiter', { resource: 'res/a', noFallback: true });
    await w.waitFor('ready');
    await b.releaseLock(lease);
    const woke = await w.waitFor('woke');
    expect(woke['lease']).toBeTruthy();
    expect(await w.exited).toBe(0);
  });

  it('a release wakes a listener of another client in this process at once', async () => {
    const other = await f.backend();
    const lease = (await b.tryLock('res/b', { ttlMs: 60_000, owner: 'holder' }))!;
    expect(await other.tryLock('res/b', { ttlMs: 60_000, owner: 'waiter' })).toBeNull();
    let wakes = 0;
    let unrelated = 0;
    const stops = [
      await other.notify.listen({ kind: 'lock', name: 'res/b' }, () => wakes++),
      await other.notify.listen({ kind: 'lock', name: 'res/other' }, () => unrelated++),
    ];
    await b.releaseLock(lease);
    expect(wakes).toBeGreaterThan(0);
    expect(unrelated).toBe(0);
    for (const stop of stops) await stop();
  });

  it('a release nobody waited on leaves the lease unmarked and rings no bell (a waiter that failed marks it)', async () => {
    const other = await f.backend();
    const lease = (await b.tryLock('res/c', { ttlMs: 60_000, owner: 'holder' }))!;
    let wakes = 0;
    // Listening without a failed try: nothing marked the lease, so its release wakes nobody.
    const stop = await other.notify.listen({ kind: 'lock', name: 'res/c' }, () => wakes++);
    await b.releaseLock(lease);
    expect(wakes).toBe(0);
    const again = (await b.tryLock('res/c', { ttlMs: 60_000, owner: 'holder' }))!;
    expect(await other.tryLock('res/c', { ttlMs: 60_000, owner: 'waiter' })).toBeNull();
    await b.releaseLock(again);
    expect(wakes).toBeGreaterThan(0);
    await stop();
  });
});
