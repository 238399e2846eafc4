import assert from 'node:assert/strict';
import { sleep } from '@agent-state/core';
import { processTest, type ContractTarget, type TestApi } from '../harness.js';
import { isWhole } from '../tasks.js';

/** Promise 2: a reader never sees a partial value, across processes and after kill -9. */
export function atomicWritesGroup(t: TestApi, target: ContractTarget): void {
  t.describe('atomic writes', () => {
    processTest(t, target, 'a reader in another process never sees a partial value', async (f) => {
      const state = await f.open();
      const writer = f.spawn('writeLoop', { key: 'atomic/big', size: 64 * 1024 });
      await writer.waitFor('ready');
      let reads = 0;
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        const entry = await state.read('atomic/big');
        assert.ok(entry, 'the key exists once written');
        assert.ok(isWhole(entry.value), `read ${reads} is whole`);
        reads++;
      }
      await writer.kill();
      assert.ok(reads > 0);
    });

    processTest(
      t,
      target,
      'a writer killed with SIGKILL mid-write leaves the old or the new value, never garbage',
      async (f) => {
        for (let round = 0; round < 4; round++) {
          const writer = f.spawn('writeLoop', { key: 'atomic/crash', size: 32 * 1024 });
          await writer.waitFor('ready');
          await sleep(5 + Math.random() * 60);
          await writer.kill();
          const state = await f.open();
          const entry = await state.read('atomic/crash');
          assert.ok(entry && isWhole(entry.value), `round ${round}: the value is whole after kill -9`);
          const next = await state.write('atomic/crash', { i: -1 });
          assert.ok(next.version > entry.version, 'the key is writable after the crash');
          await state.write('atomic/crash', entry.value);
        }
      },
      { timeoutMs: 60_000, crash: true },
    );
  });
}
