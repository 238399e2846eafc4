import assert from 'node:assert/strict';
import { LockLostError, LockTimeoutError, sleep } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 5: mutual exclusion with leases and fencing tokens. */
export function locksGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('locks', () => {
    fixtureTest(t, target, 'a lock has a token, an owner and a lease; a second taker times out', async (f) => {
      const state = await f.open();
      const before = Date.now();
      const lock = await state.lock('locks/a', { ttlMs: 5_000 });
      assert.ok(Number.isInteger(lock.token) && lock.token > 0);
      assert.equal(typeof lock.owner, 'string');
      assert.ok(lock.expiresAt >= before + 4_000 && lock.expiresAt <= Date.now() + 6_000, 'expiresAt ≈ now + ttlMs');
      const other = await f.open();
      await assert.rejects(other.lock('locks/a', { waitMs: 0 }), LockTimeoutError);
      await assert.rejects(other.lock('locks/a', { waitMs: 150 }), (e: unknown) => {
        assert.ok(e instanceof LockTimeoutError);
        assert.equal(e.resource, 'locks/a');
        assert.equal(e.code, 'LOCK_TIMEOUT');
        return true;
      });
      await lock.release();
      const next = await other.lock('locks/a', { waitMs: 0 });
      assert.ok(next.token > lock.token, 'tokens strictly increase per resource');
      await next.release();
    });

    fixtureTest(t, target, 'a waiter gets the lock as soon as it is released', async (f) => {
      const a = await f.open();
      const b = await f.open();
      const first = await a.lock('locks/wait', { ttlMs: 10_000 });
      const waiting = b.lock('locks/wait', { waitMs: 5_000 });
      await sleep(50);
      await first.release();
      const second = await waiting;
      assert.ok(second.token > first.token);
      await second.release();
    });

    fixtureTest(t, target, 'release twice is harmless and await using releases', async (f) => {
      const state = await f.open();
      {
        await using lock = await state.lock('locks/using');
        assert.ok(lock.token > 0);
      }
      const again = await state.lock('locks/using', { waitMs: 0 });
      await again.release();
      await again.release();
    });

    fixtureTest(t, target, 'an expired lease passes to the next holder; the old one cannot release, extend or write', async (f) => {
      const a = await f.open();
      const b = await f.open();
      // The fenced write must land inside the lease: 2 s of it on a loaded machine.
      const old = await a.lock('locks/exp', { ttlMs: 2_000 });
      await a.write('locks/data', 'by-old', { fence: old });
      await sleep(Math.max(0, old.expiresAt - Date.now()) + 100);
      const fresh = await b.lock('locks/exp', { waitMs: 0 });
      assert.ok(fresh.token > old.token);
      await assert.rejects(old.release(), LockLostError);
      await assert.rejects(old.extend(1_000), LockLostError);
      await assert.rejects(a.write('locks/data', 'stale', { fence: old }), LockLostError);
      await assert.rejects(a.delete('locks/data', { fence: old }), LockLostError);
      assert.equal((await b.read('locks/data'))?.value, 'by-old', 'the fenced write was refused');
      // The new holder still holds it.
      await assert.rejects(a.lock('locks/exp', { waitMs: 0 }), LockTimeoutError);
      await b.write('locks/data', 'by-new', { fence: fresh });
      assert.equal(await b.delete('locks/data', { fence: fresh }), true);
      await fresh.release();
    });

    fixtureTest(t, target, 'an expired lease with no new holder cannot be extended or used to write', async (f) => {
      const state = await f.open();
      const lock = await state.lock('locks/lapsed', { ttlMs: 100 });
      await sleep(Math.max(0, lock.expiresAt - Date.now()) + 100);
      await assert.rejects(state.write('locks/x', 1, { fence: lock }), LockLostError);
      await assert.rejects(lock.extend(), LockLostError);
      assert.equal(await state.read('locks/x'), null);
    });

    fixtureTest(t, target, 'extend keeps the lock past its first lease', async (f) => {
      const a = await f.open();
      const b = await f.open();
      // The extend must land inside the first lease: 3 s of slack on a loaded machine.
      const lock = await a.lock('locks/ext', { ttlMs: 3_000 });
      const first = lock.expiresAt;
      await sleep(200);
      await lock.extend(10_000);
      assert.ok(lock.expiresAt > first);
      await sleep(Math.max(0, first - Date.now()) + 200);
      await assert.rejects(b.lock('locks/ext', { waitMs: 0 }), LockTimeoutError);
      await a.write('locks/ext-data', 1, { fence: lock });
      await lock.release();
    });

    fixtureTest(t, target, 'resources are independent', async (f) => {
      const state = await f.open();
      const x = await state.lock('locks/r1', { waitMs: 0 });
      const y = await state.lock('locks/r2', { waitMs: 0 });
      await x.release();
      await y.release();
    });

    processTest(
      t,
      target,
      'processes contending for one lock never overlap and tokens strictly increase',
      async (f) => {
        const n = Math.max(10, Math.round(40 * scale));
        const results = await Promise.all([0, 1, 2].map(() => f.run('lockedCounter', { resource: 'locks/mp', key: 'locks/counter', n })));
        const state = await f.open();
        assert.equal((await state.read('locks/counter'))?.value, 3 * n, 'no increment was lost: the critical sections never overlapped');
        const all: number[] = [];
        for (const messages of results) {
          const tokens = messages.find((m) => m.type === 'done')?.tokens as number[];
          for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, 'tokens increase within a process');
          all.push(...tokens);
        }
        assert.equal(new Set(all).size, all.length, 'no token was issued twice');
      },
      { timeoutMs: 120_000 },
    );

    processTest(
      t,
      target,
      'a holder killed with SIGKILL loses the lock after ttlMs and the next holder gets a greater token',
      async (f) => {
        const holder = f.spawn('holdLock', { resource: 'locks/killed', ttlMs: 1_000 });
        const locked = await holder.waitFor('locked');
        await holder.kill();
        const state = await f.open();
        const lock = await state.lock('locks/killed', { waitMs: 10_000 });
        assert.ok(lock.token > (locked.token as number));
        await state.write('locks/after', 'ok', { fence: lock });
        await lock.release();
      },
      { timeoutMs: 60_000 },
    );
  });
}
