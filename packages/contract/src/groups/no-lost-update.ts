import assert from 'node:assert/strict';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 4: P processes × N update/increment on one key end at exactly P×N. */
export function noLostUpdateGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('no lost update', () => {
    fixtureTest(t, target, 'concurrent increments from two clients in one process are all counted', async (f) => {
      const a = await f.open();
      const b = await f.open();
      const n = Math.max(10, Math.round(40 * scale));
      await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? a : b).increment('nlu/inproc')));
      assert.equal((await a.read('nlu/inproc'))?.value, n);
    });

    fixtureTest(t, target, 'increment adds any amount, counts a missing key as 0 and refuses a non-number', async (f) => {
      const state = await f.open();
      assert.equal(await state.increment('nlu/by', 5), 5);
      assert.equal(await state.increment('nlu/by', -2), 3);
      assert.equal(await state.increment('nlu/by'), 4);
      await state.write('nlu/text', 'abc');
      await assert.rejects(state.increment('nlu/text'), { code: 'INVALID_VALUE' });
      assert.equal((await state.read('nlu/text'))?.value, 'abc');
    });

    fixtureTest(t, target, 'concurrent updates of one object in one process lose nothing', async (f) => {
      const state = await f.open();
      const n = Math.max(10, Math.round(30 * scale));
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          state.update<{ seen: number[] }>('nlu/obj', (e) => ({ seen: [...(e?.value.seen ?? []), i] })),
        ),
      );
      const seen = ((await state.read('nlu/obj'))?.value as { seen: number[] }).seen;
      assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i));
    });

    fixtureTest(t, target, 'update returning undefined leaves the key unchanged', async (f) => {
      const state = await f.open();
      const v = await state.write('nlu/keep', 'x');
      const same = await state.update('nlu/keep', () => undefined);
      assert.equal(same?.version, v.version);
    });

    processTest(
      t,
      target,
      '4 processes × N increments and updates on one key end at exactly 4×N',
      async (f) => {
        const n = Math.max(10, Math.round(100 * scale));
        await Promise.all([
          f.run('increment', { key: 'nlu/procs', n }),
          f.run('increment', { key: 'nlu/procs', n }),
          f.run('update', { key: 'nlu/procs', n }),
          f.run('update', { key: 'nlu/procs', n }),
        ]);
        const state = await f.open();
        assert.equal((await state.read('nlu/procs'))?.value, 4 * n);
      },
      { timeoutMs: 120_000 },
    );
  });
}
