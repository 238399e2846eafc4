import assert from 'node:assert/strict';
import { ConflictError } from '@agent-state/core';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 3: ifVersion succeeds only on a match; otherwise ConflictError and nothing written. */
export function compareAndSetGroup(t: TestApi, target: ContractTarget): void {
  t.describe('compare-and-set', () => {
    fixtureTest(t, target, "ifVersion 'absent' creates a missing key and refuses an existing one", async (f) => {
      const state = await f.open();
      const created = await state.write('cas/a', 1, { ifVersion: 'absent' });
      assert.equal(created.version, 1);
      await assert.rejects(state.write('cas/a', 2, { ifVersion: 'absent' }), (e: unknown) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.code, 'CONFLICT');
        assert.equal(e.key, 'cas/a');
        assert.equal(e.expected, 'absent');
        assert.equal(e.actual, 1);
        return true;
      });
      assert.equal((await state.read('cas/a'))?.value, 1, 'nothing written');
    });

    fixtureTest(t, target, 'a matching version writes; a stale one is a ConflictError carrying both versions', async (f) => {
      const state = await f.open();
      const v1 = await state.write('cas/b', 'one');
      const v2 = await state.write('cas/b', 'two', { ifVersion: v1.version });
      assert.ok(v2.version > v1.version);
      await assert.rejects(state.write('cas/b', 'stale', { ifVersion: v1.version }), (e: unknown) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.expected, v1.version);
        assert.equal(e.actual, v2.version);
        return true;
      });
      const now = await state.read('cas/b');
      assert.equal(now?.value, 'two');
      assert.equal(now?.version, v2.version);
    });

    fixtureTest(t, target, 'ifVersion on a missing key is a ConflictError with actual absent', async (f) => {
      const state = await f.open();
      await assert.rejects(state.write('cas/missing', 1, { ifVersion: 3 }), (e: unknown) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.actual, 'absent');
        return true;
      });
      assert.equal(await state.read('cas/missing'), null);
    });

    fixtureTest(t, target, 'delete honours ifVersion', async (f) => {
      const state = await f.open();
      const v1 = await state.write('cas/d', 1);
      await state.write('cas/d', 2);
      await assert.rejects(state.delete('cas/d', { ifVersion: v1.version }), ConflictError);
      assert.equal((await state.read('cas/d'))?.value, 2);
      const current = await state.read('cas/d');
      assert.equal(await state.delete('cas/d', { ifVersion: current!.version }), true);
      assert.equal(await state.read('cas/d'), null);
    });

    fixtureTest(t, target, 'of many concurrent writers with the same ifVersion exactly one wins', async (f) => {
      const clients = [await f.open(), await f.open()];
      const base = await clients[0]!.write('cas/race', 'base');
      const results = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) => clients[i % 2]!.write('cas/race', `w${i}`, { ifVersion: base.version })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, 'exactly one compare-and-set wins');
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
      const winner = (won[0] as PromiseFulfilledResult<{ value: unknown }>).value.value;
      assert.equal((await clients[1]!.read('cas/race'))?.value, winner);
    });
  });
}
