import assert from 'node:assert/strict';
import { LockLostError, LockTimeoutError } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/**
 * Second wave: `lockMany` takes every resource or none, in sorted order (no deadlock between
 * overlapping sets), each lease with its own fencing token; `releaseLease` / `extendLease` act
 * on a lease known only by its identity (a stateless server); disposal of a lost lock never
 * hides the body's error.
 */
export function lockManyGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('lockMany and leases', () => {
    fixtureTest(t, target, 'lockMany takes every resource in sorted order, each with its own token, or none on timeout', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const locks = await a.lockMany(['lm/c', 'lm/a', 'lm/b', 'lm/a'], { ttlMs: 10_000 });
      assert.deepEqual(locks.map((l) => l.resource), ['lm/a', 'lm/b', 'lm/c'], 'sorted, duplicates once');
      for (const l of locks) assert.ok(Number.isInteger(l.token) && l.token > 0);
      // b wants 0 (free, taken first in sorted order) and c (held): it must end up with neither.
      await assert.rejects(b.lockMany(['lm/c', 'lm/0'], { waitMs: 100 }), LockTimeoutError);
      const d = await a.lock('lm/0', { waitMs: 0 });
      await d.release();
      for (const l of locks) await l.release();
      const again = await b.lockMany(['lm/a', 'lm/c'], { waitMs: 0 });
      assert.ok(again[0]!.token > locks[0]!.token && again[1]!.token > locks[2]!.token, 'tokens still increase per resource');
      for (const l of again) await l.release();
      await assert.rejects(a.lockMany([]), /resources/);
      await assert.rejects(a.lockMany(['ok', 'bad//key']), /resources\[1\]/);
    });

    fixtureTest(t, target, 'releaseLease and extendLease act on a lease known only by resource, token and owner', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const lock = await a.lock('lm/stateless', { ttlMs: 2_000 });
      const ref = { resource: lock.resource, token: lock.token, owner: lock.owner };
      const extended = await b.extendLease(ref, 10_000);
      assert.ok(extended.expiresAt >= lock.expiresAt, 'the lease end moved on');
      assert.equal(extended.token, lock.token);
      await b.releaseLease(ref);
      const next = await b.lock('lm/stateless', { waitMs: 0 });
      assert.ok(next.token > lock.token);
      await assert.rejects(b.releaseLease(ref), LockLostError, 'a lease that is gone cannot be released');
      await assert.rejects(b.extendLease(ref, 1_000), LockLostError);
      await assert.rejects(b.releaseLease({ resource: 'lm/stateless', token: 0, owner: 'x' }), /lease\.token/);
      await next.release();
    });

    fixtureTest(t, target, "await using on a lock lost meanwhile does not hide the body's error", async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const bodyError = new Error('the body failed');
      let lost: { lost: boolean } | undefined;
      await assert.rejects(
        (async () => {
          await using lock = await a.lock('lm/lost', { ttlMs: 100 });
          lost = lock;
          await new Promise((r) => setTimeout(r, Math.max(0, lock.expiresAt - Date.now()) + 100));
          const taker = await b.lock('lm/lost', { waitMs: 0 });
          await taker.release();
          throw bodyError;
        })(),
        (e: unknown) => e === bodyError,
      );
      assert.equal(lost?.lost, true, 'the lock reports that disposal found it lost');
    });

    processTest(t, target, 'two processes taking overlapping sets with lockMany never both hold a shared resource, and never deadlock', async (f) => {
      const n = Math.max(10, Math.round(30 * scale));
      await Promise.all([
        f.run('lockManyCounter', { resources: ['lmp/b', 'lmp/a'], n }),
        f.run('lockManyCounter', { resources: ['lmp/c', 'lmp/b'], n }),
      ]);
      const state = await f.open();
      assert.equal((await state.read('counters/lmp/b'))?.value, 2 * n, 'no update to the shared resource was lost: never held by both');
      assert.equal((await state.read('counters/lmp/a'))?.value, n);
      assert.equal((await state.read('counters/lmp/c'))?.value, n);
    });
  });
}
