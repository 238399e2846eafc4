import assert from 'node:assert/strict';
import { StateClosedError } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 13: close is idempotent, releases everything, and later calls reject. */
export function lifecycleGroup(t: TestApi, target: ContractTarget): void {
  t.describe('lifecycle', () => {
    fixtureTest(t, target, 'close is idempotent and every call after it is a StateClosedError', async (f) => {
      const state = await f.open();
      await state.write('life/a', 1);
      const lock = await state.lock('life/lock');
      const tx = await state.begin();
      const health = await state.health();
      assert.equal(health.ok, true);
      assert.equal(typeof health.target, 'string');
      await state.close();
      await state.close();
      assert.equal(state.closed, true);
      const calls: [string, () => Promise<unknown>][] = [
        ['read', () => state.read('life/a')],
        ['readMany', () => state.readMany(['life/a'])],
        ['write', () => state.write('life/a', 2)],
        ['delete', () => state.delete('life/a')],
        ['list', () => state.list().next()],
        ['update', () => state.update('life/a', () => 3)],
        ['increment', () => state.increment('life/n')],
        ['lock', () => state.lock('life/other')],
        ['extend', () => lock.extend()],
        ['release', () => lock.release()],
        ['transaction', () => state.transaction(() => 1)],
        ['begin', () => state.begin()],
        ['tx.read', () => tx.read('life/a')],
        ['tx.commit', () => tx.commit()],
        ['health', () => state.health()],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), (e: unknown) => {
          assert.ok(e instanceof StateClosedError, `${name} after close: StateClosedError, got ${String(e)}`);
          assert.equal(e.code, 'STATE_CLOSED');
          return true;
        });
      }
    });

    fixtureTest(t, target, 'await using closes the client', async (f) => {
      let escaped: { closed: boolean } | undefined;
      {
        await using state = await f.open();
        await state.write('life/using', 1);
        escaped = state;
      }
      assert.equal(escaped.closed, true);
    });

    processTest(
      t,
      target,
      'a process that opens, uses and closes a client exits by itself',
      async (f) => {
        const worker = f.spawn('lifecycle');
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), 20_000);
        const result = await worker.done;
        clearTimeout(timer);
        assert.equal(result.signal, null, `the worker had to be killed: something kept it alive. ${result.stderr}`);
        assert.equal(result.code, 0, result.stderr);
        assert.ok(result.messages.some((m) => m.type === 'done'));
      },
      { timeoutMs: 40_000 },
    );
  });
}
