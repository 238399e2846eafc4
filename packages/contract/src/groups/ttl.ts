import assert from 'node:assert/strict';
import { sleep } from '@agent-state/core';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 7: an expired entry reads as absent, is skipped by list, and can be re-created. */
export function ttlGroup(t: TestApi, target: ContractTarget): void {
  t.describe('ttl', () => {
    fixtureTest(t, target, "an expired entry reads as absent, is skipped by list and can be re-created with ifVersion 'absent'", async (f) => {
      const state = await f.open();
      const before = Date.now();
      const entry = await state.write('ttl/short', 'soon gone', { ttlMs: 1_000 });
      assert.ok(entry.expiresAt !== undefined && entry.expiresAt >= before + 900 && entry.expiresAt <= Date.now() + 2_000);
      await state.write('ttl/long', 'stays', { ttlMs: 60_000 });
      assert.equal((await state.read('ttl/short'))?.value, 'soon gone');
      await sleep(Math.max(0, entry.expiresAt - Date.now()) + 150);
      assert.equal(await state.read('ttl/short'), null);
      assert.deepEqual(
        (await state.readMany(['ttl/short', 'ttl/long'])).map((e) => e?.value ?? null),
        [null, 'stays'],
      );
      const keys: string[] = [];
      for await (const e of state.list({ prefix: 'ttl/' })) keys.push(e.key);
      assert.deepEqual(keys, ['ttl/long']);
      const again = await state.write('ttl/short', 'back', { ifVersion: 'absent' });
      assert.equal(again.value, 'back');
      assert.equal(again.expiresAt, undefined);
    });

    fixtureTest(t, target, 'a write without ttlMs clears an earlier expiry', async (f) => {
      const state = await f.open();
      await state.write('ttl/clear', 1, { ttlMs: 300 });
      await state.write('ttl/clear', 2);
      await sleep(450);
      const entry = await state.read('ttl/clear');
      assert.equal(entry?.value, 2);
      assert.equal(entry?.expiresAt, undefined);
    });

    fixtureTest(t, target, 'a transaction sees an expired key as absent', async (f) => {
      const state = await f.open();
      await state.write('ttl/tx', 'x', { ttlMs: 100 });
      await sleep(250);
      await state.transaction(async (tx) => {
        assert.equal(await tx.read('ttl/tx'), null);
        tx.write('ttl/tx', 'fresh', { ttlMs: 60_000 });
      });
      const entry = await state.read('ttl/tx');
      assert.equal(entry?.value, 'fresh');
      assert.ok(entry?.expiresAt !== undefined);
    });
  });
}
