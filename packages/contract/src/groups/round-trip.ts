import assert from 'node:assert/strict';
import type { JsonValue } from '@agent-state/core';
import { fixtureTest, openStore, type ContractTarget, type TestApi } from '../harness.js';

const VALUES: [string, JsonValue][] = [
  ['an empty string', ''],
  ['a unicode string', 'héllo wörld ✓ 日本語 🚀 \u0000 \n\t"quoted"'],
  ['zero', 0],
  ['a negative float', -1.5],
  ['a large number', 1e300],
  ['the largest safe integer', Number.MAX_SAFE_INTEGER],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty array', []],
  ['an empty object', {}],
  ['a nested structure', { a: [1, 'two', { three: [null, true, { deep: 'x' }] }], 'ünïcode key': { '': 'empty key' } }],
  ['a 256 KiB string', 'x'.repeat(256 * 1024)],
];

/** Promise 1: any valid JSON value written is read back deep-equal, with its version. */
export function roundTripGroup(t: TestApi, target: ContractTarget): void {
  t.describe('round trip', () => {
    fixtureTest(t, target, 'every kind of JSON value is read back deep-equal with its version', async (f) => {
      const state = await f.open();
      for (const [i, [, value]] of VALUES.entries()) {
        const written = await state.write(`rt/v${i}`, value);
        assert.equal(written.version, 1, `first write of ${VALUES[i]![0]} has version 1`);
        const read = await state.read(`rt/v${i}`);
        assert.ok(read, `${VALUES[i]![0]} reads back`);
        assert.deepEqual(read.value, value, `${VALUES[i]![0]} round-trips`);
        assert.equal(read.version, written.version);
        assert.equal(read.key, `rt/v${i}`);
        assert.equal(read.expiresAt, undefined);
      }
    });

    fixtureTest(t, target, 'a second client reads what the first wrote', async (f) => {
      const a = await f.open();
      const b = await f.open();
      await a.write('rt/shared', { from: 'a' });
      assert.deepEqual((await b.read('rt/shared'))?.value, { from: 'a' });
    });

    fixtureTest(t, target, 'the version strictly increases with every write and updatedAt is epoch ms', async (f) => {
      const state = await f.open();
      const before = Date.now();
      let last = 0;
      for (let i = 0; i < 5; i++) {
        const entry = await state.write('rt/versioned', i);
        assert.ok(entry.version > last, `version ${entry.version} > ${last}`);
        last = entry.version;
        assert.ok(entry.updatedAt >= before - 1_000 && entry.updatedAt <= Date.now() + 1_000, 'updatedAt is now');
      }
      assert.equal((await state.read('rt/versioned'))?.version, last);
    });

    fixtureTest(t, target, 'readMany returns entries in order with null for absent keys', async (f) => {
      const state = await f.open();
      await state.write('rt/m1', 1);
      await state.write('rt/m3', 3);
      const entries = await state.readMany(['rt/m3', 'rt/m2', 'rt/m1']);
      assert.deepEqual(
        entries.map((e) => e?.value ?? null),
        [3, null, 1],
      );
      assert.deepEqual(await state.readMany([]), []);
    });

    fixtureTest(t, target, 'delete removes the key and says whether it existed', async (f) => {
      const state = await f.open();
      await state.write('rt/gone', 'x');
      assert.equal(await state.delete('rt/gone'), true);
      assert.equal(await state.read('rt/gone'), null);
      assert.equal(await state.delete('rt/gone'), false);
      const again = await state.write('rt/gone', 'y');
      assert.ok(again.version >= 1);
    });

    fixtureTest(t, target, 'keys are case-sensitive and a key may also be a prefix of other keys', async (f) => {
      const state = await f.open();
      await state.write('rt/Case', 'upper');
      await state.write('rt/case', 'lower');
      await state.write('rt/case/child', 'child');
      assert.equal((await state.read('rt/Case'))?.value, 'upper');
      assert.equal((await state.read('rt/case'))?.value, 'lower');
      assert.equal((await state.read('rt/case/child'))?.value, 'child');
    });

    fixtureTest(t, target, 'two namespaces on one store never see each other', async (f) => {
      const other = { ...f.config, namespace: `${f.config.namespace ?? 'default'}-other` };
      const a = await f.open();
      const b = await openStore(other, target);
      try {
        await a.write('rt/ns', 'a');
        assert.equal(await b.read('rt/ns'), null);
        await b.write('rt/ns', 'b');
        assert.equal((await a.read('rt/ns'))?.value, 'a');
        const lockA = await a.lock('rt/res', { waitMs: 0 });
        const lockB = await b.lock('rt/res', { waitMs: 0 });
        await lockA.release();
        await lockB.release();
        const listed: string[] = [];
        for await (const e of b.list()) listed.push(e.key);
        assert.deepEqual(listed, ['rt/ns']);
      } finally {
        await b.close();
        await target.cleanup?.(other);
      }
    });
  });
}
