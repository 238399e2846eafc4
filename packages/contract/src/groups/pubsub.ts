import assert from 'node:assert/strict';
import { sleep } from '@agent-state/core';
import type { JsonValue } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Promise 10: every message after subscribe, in publish order per publisher; unsubscribe stops it. */
export function pubsubGroup(t: TestApi, target: ContractTarget): void {
  t.describe('pub/sub', () => {
    fixtureTest(t, target, 'a subscriber gets every message published after subscribe resolved, in order', async (f) => {
      const publisher = await f.open();
      const subscriber = await f.open();
      await publisher.publish('news', 'before');
      const got: JsonValue[] = [];
      const unsubscribe = await subscriber.subscribe('news', (m) => {
        got.push(m);
      });
      for (let i = 0; i < 20; i++) await publisher.publish('news', { i });
      await until(() => got.length >= 20, 10_000, '20 messages');
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => ({ i })));
      await unsubscribe();
      await publisher.publish('news', 'after');
      await sleep(300);
      assert.equal(got.length, 20, 'nothing delivered after unsubscribe');
    });

    fixtureTest(t, target, 'channels are independent and every subscriber gets its own copy', async (f) => {
      const state = await f.open();
      const a: JsonValue[] = [];
      const b: JsonValue[] = [];
      const other: JsonValue[] = [];
      const stops = [
        await state.subscribe('c1', (m) => void a.push(m)),
        await state.subscribe('c1', (m) => void b.push(m)),
        await state.subscribe('c2', (m) => void other.push(m)),
      ];
      await state.publish('c1', 'x');
      await state.publish('c2', 'y');
      await until(() => a.length === 1 && b.length === 1 && other.length === 1, 10_000, 'deliveries');
      assert.deepEqual([a, b, other], [['x'], ['x'], ['y']]);
      for (const stop of stops) await stop();
    });

    fixtureTest(t, target, 'a handler that throws reaches onError and the subscription goes on with the next message', async (f) => {
      const state = await f.open();
      const errors: unknown[] = [];
      const got: JsonValue[] = [];
      const sub = await state.subscribe(
        'boom',
        (m) => {
          if (m === 1) throw new Error('handler failed');
          got.push(m);
        },
        { onError: (e) => errors.push(e) },
      );
      await state.publish('boom', 1);
      await state.publish('boom', 2);
      await until(() => got.length === 1, 10_000, 'the message after the error');
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /handler failed/);
      assert.deepEqual(got, [2]);
      await sub.close();
      await sub.closed;
    });

    fixtureTest(t, target, 'without onError a throwing handler ends the subscription and rejects closed, never crashing the process', async (f) => {
      const state = await f.open();
      let calls = 0;
      const sub = await state.subscribe('boom2', () => {
        calls++;
        throw new Error('no handler for this');
      });
      await state.publish('boom2', 1);
      await assert.rejects(sub.closed, /no handler for this/);
      await state.publish('boom2', 2);
      await sleep(200);
      assert.equal(calls, 1, 'nothing delivered after the subscription ended');
      await sub(); // still callable as the old unsubscribe function, harmless after the end
    });

    fixtureTest(t, target, 'a subscription is an object: close, closed, await using; after replays retained messages', async (f) => {
      const state = await f.open();
      const first = await state.publish('objects', 'a');
      await state.publish('objects', 'b');
      const replay: { sequence: number; message: JsonValue }[] = [];
      {
        await using sub = await state.subscribe('objects', (message, meta) => void replay.push({ sequence: meta.sequence, message }), { after: first.sequence - 1 });
        await until(() => replay.length >= 2, 10_000, 'the replay');
        assert.equal(typeof sub.close, 'function');
      }
      assert.deepEqual(replay.map((r) => r.message), ['a', 'b']);
      assert.ok(replay[1]!.sequence > replay[0]!.sequence, 'sequences increase per channel');
      await state.publish('objects', 'c');
      await sleep(200);
      assert.equal(replay.length, 2, 'await using closed the subscription');
      await assert.rejects(state.subscribe('objects', () => undefined, { after: -1 }), /options\.after/);
      await assert.rejects(state.subscribe('objects', () => undefined, { onError: 'x' as never }), /options\.onError/);
    });

    processTest(
      t,
      target,
      'messages from several publisher processes all arrive, in order per publisher',
      async (f) => {
        const state = await f.open();
        const got: { publisher: string; i: number }[] = [];
        const stop = await state.subscribe('multi', (m) => void got.push(m as { publisher: string; i: number }));
        const n = 30;
        await Promise.all(['p1', 'p2'].map((name) => f.run('publish', { channel: 'multi', name, n })));
        await until(() => got.length >= 2 * n, 20_000, 'all messages');
        for (const name of ['p1', 'p2']) {
          assert.deepEqual(
            got.filter((m) => m.publisher === name).map((m) => m.i),
            Array.from({ length: n }, (_, i) => i),
            `${name} in order, none lost`,
          );
        }
        await stop();
      },
      { timeoutMs: 60_000 },
    );
  });
}
