import assert from 'node:assert/strict';
import { ConflictError, InvalidValueError, sleep } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/**
 * Second wave: a version is never reused for a key, not after a delete, an expiry or a
 * transaction's delete, so a compare-and-set holding an older incarnation's version can never
 * succeed against a newer one (no ABA). Also: one behaviour for `increment` over `null`.
 */
export function versionsGroup(t: TestApi, target: ContractTarget): void {
  t.describe('versions never repeat', () => {
    fixtureTest(t, target, 'a key deleted and created again gets a version above every earlier one: the stale CAS fails', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const first = await a.write('aba/task', { owner: 'one' });
      const seen = await a.read('aba/task');
      assert.equal(seen?.version, first.version);
      assert.equal(await b.delete('aba/task'), true);
      const again = await b.write('aba/task', { owner: 'two' });
      assert.ok(again.version > first.version, `version ${again.version} after a delete must exceed ${first.version}`);
      await assert.rejects(a.write('aba/task', { owner: 'stale' }, { ifVersion: seen!.version }), ConflictError);
      await assert.rejects(a.delete('aba/task', { ifVersion: seen!.version }), ConflictError);
      assert.deepEqual((await b.read('aba/task'))?.value, { owner: 'two' });
    });

    fixtureTest(t, target, 'a key created again with ifVersion absent after a delete still gets a new version', async (f) => {
      const state = await f.open();
      const versions: number[] = [];
      for (let i = 0; i < 5; i++) {
        versions.push((await state.write('aba/loop', i, { ifVersion: 'absent' })).version);
        await state.delete('aba/loop');
      }
      for (let i = 1; i < versions.length; i++) assert.ok(versions[i]! > versions[i - 1]!, `versions ${versions.join(', ')} must strictly increase`);
    });

    fixtureTest(t, target, 'an expired key written again gets a version above the expired one', async (f) => {
      const state = await f.open();
      // Two writes and a read must land before the first ttl ends: 2 s, not 50 ms, so a loaded
      // machine does not expire the key in between (then sleep only until it has expired).
      const first = await state.write('aba/ttl', 'short', { ttlMs: 2_000 });
      await state.write('aba/ttl', 'short again', { ttlMs: 2_000, ifVersion: first.version });
      const second = await state.read('aba/ttl');
      assert.ok(second?.expiresAt !== undefined, 'the second write is still live');
      await sleep(Math.max(0, second.expiresAt - Date.now()) + 150);
      assert.equal(await state.read('aba/ttl'), null);
      const fresh = await state.write('aba/ttl', 'new', { ifVersion: 'absent' });
      assert.ok(fresh.version > second!.version, `version ${fresh.version} after expiry must exceed ${second!.version}`);
      await assert.rejects(state.write('aba/ttl', 'stale', { ifVersion: second!.version }), ConflictError);
    });

    fixtureTest(t, target, "a transaction's recorded read of an older incarnation conflicts after delete and re-create", async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      await a.write('aba/tx', 1);
      const tx = await a.begin();
      assert.equal((await tx.read('aba/tx'))?.value, 1);
      tx.write('aba/tx-out', 'from stale read');
      await b.delete('aba/tx');
      await b.write('aba/tx', 1);
      await assert.rejects(tx.commit(), ConflictError);
      assert.equal(await b.read('aba/tx-out'), null, 'nothing of the stale transaction was written');
    });

    fixtureTest(t, target, 'a key deleted inside a transaction and created again gets a higher version', async (f) => {
      const state = await f.open();
      const first = await state.write('aba/txdel', 'a');
      await state.transaction((tx) => {
        tx.delete('aba/txdel');
      });
      const again = await state.write('aba/txdel', 'b');
      assert.ok(again.version > first.version, `version ${again.version} must exceed ${first.version}`);
      await state.transaction(async (tx) => {
        await tx.read('aba/txdel');
        tx.delete('aba/txdel');
      });
      const third = await state.transaction(async (tx) => {
        tx.write('aba/txdel', 'c');
      }).then(() => state.read('aba/txdel'));
      assert.ok(third!.version > again.version, `version ${third!.version} must exceed ${again.version}`);
    });

    fixtureTest(t, target, 'a different key deleted does not stop a new key from starting at a version of its own that is never reused', async (f) => {
      const state = await f.open();
      const a1 = await state.write('aba/x', 1);
      await state.write('aba/x', 2);
      await state.write('aba/x', 3);
      await state.delete('aba/x');
      const y = await state.write('aba/y', 1);
      assert.ok(y.version >= 1);
      const x = await state.write('aba/x', 'back');
      assert.ok(x.version > a1.version + 2, `re-created aba/x (version ${x.version}) must exceed its last version ${a1.version + 2}`);
    });

    processTest(t, target, 'versions stay unique per key when another process deletes and re-creates it', async (f) => {
      const state = await f.open();
      const seen = new Set<number>();
      for (let round = 0; round < 5; round++) {
        await f.run('deleteAndCreate', { key: 'aba/proc' });
        const entry = await state.read('aba/proc');
        assert.ok(entry, 'the worker re-created the key');
        assert.ok(!seen.has(entry.version), `version ${entry.version} was seen before`);
        for (const v of seen) assert.ok(entry.version > v, `version ${entry.version} must exceed earlier ${v}`);
        seen.add(entry.version);
      }
    });
  });

  t.describe('increment over null', () => {
    fixtureTest(t, target, 'increment over a key holding JSON null is an InvalidValueError and changes nothing', async (f) => {
      const state = await f.open();
      const written = await state.write('inc/null', null);
      await assert.rejects(state.increment('inc/null'), (e: unknown) => {
        assert.ok(e instanceof InvalidValueError, String(e));
        assert.equal(e.code, 'INVALID_VALUE');
        return true;
      });
      const after = await state.read('inc/null');
      assert.equal(after?.value, null);
      assert.equal(after?.version, written.version);
      assert.equal(await state.increment('inc/null-absent'), 1, 'an absent key still counts as 0');
    });
  });
}
