/**
 * Lock wakeups (lockWake): a release in another process NOTIFYs the resource's lock topic when a
 * tryLock found the lease taken; with the dedicated LISTEN connection and with pool size 1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NativeFixture, until } from './native-helpers.js';
import { dropRunSchema, requireServer } from './pg-helpers.js';

const up = await requireServer();

describe.skipIf(!up)('lock wakeups', () => {
  afterAll(() => dropRunSchema());

  for (const poolSize of [4, 1]) {
    it(`a release in another process wakes a listener here that found the lease taken (pool size ${poolSize})`, async () => {
      const f = new NativeFixture();
      try {
        const b = await f.backend({ poolSize });
        expect(b.capabilities.coordination?.lockWake).toBe(true);
        const holder = f.spawn('lockRelease', { resource: 'res/a' });
        await holder.waitFor('ready');
        holder.go();
        await holder.waitFor('locked');
        expect(await b.tryLock('res/a', { ttlMs: 60_000, owner: 'waiter' })).toBeNull();
        let wakes = 0;
        let unrelated = 0;
        const stops = [
          await b.notify.listen({ kind: 'lock', name: 'res/a' }, () => wakes++),
          await b.notify.listen({ kind: 'lock', name: 'res/other' }, () => unrelated++),
        ];
        holder.go();
        await holder.waitFor('result');
        await until(() => wakes > 0, 'the wakeup');
        expect(await b.tryLock('res/a', { ttlMs: 60_000, owner: 'waiter' })).not.toBeNull();
        expect(unrelated).toBe(0);
        for (const stop of stops) await stop();
      } finally {
        await f.dispose();
      }
    }, 60_000);
  }

  it('a release nobody found taken sends no wakeup; once a tryLock failed on the lease, its release does', async () => {
    const f = new NativeFixture();
    try {
      const a = await f.backend();
      const b = await f.backend();
      let wakes = 0;
      const stop = await b.notify.listen({ kind: 'lock', name: 'res/c' }, () => wakes++);
      await a.releaseLock((await a.tryLock('res/c', { ttlMs: 60_000, owner: 'a' }))!);
      const again = (await a.tryLock('res/c', { ttlMs: 60_000, owner: 'a' }))!;
      expect(await b.tryLock('res/c', { ttlMs: 60_000, owner: 'b' })).toBeNull();
      await a.releaseLock(again);
      await until(() => wakes > 0, 'the wakeup of the waited-for release');
      // NOTIFYs arrive in commit order: the first (unmarked) release would have come first.
      expect(wakes).toBe(1);
      await stop();
    } finally {
      await f.dispose();
    }
  }, 60_000);
});
