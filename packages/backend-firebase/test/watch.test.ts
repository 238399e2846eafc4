/** `watch`: change hints from the Realtime Database listeners, as used by pub/sub subscribers. */
import { afterEach, describe, expect, it } from 'vitest';
import { Fixture } from '@agent-state/contract';
import { freshConfig, removeNamespace } from './fixtures.js';

const fixtures: Fixture[] = [];

function fixture(): Fixture {
  const f = new Fixture(
    { name: 'firebase', multiProcess: true, config: () => freshConfig(), cleanup: (c) => removeNamespace(c.namespace) },
    freshConfig(),
  );
  fixtures.push(f);
  return f;
}

afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.dispose();
});

/** Resolves once `check()` holds; polls every 20 ms for up to 10 s (a bound, not a timing claim). */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
}

describe('firebase watch', () => {
  it('calls onChange after another process writes the key, and not after it is stopped', async () => {
    const f = fixture();
    const state = await f.open();
    await state.write('w/key', 0);
    let calls = 0;
    const stop = state.backend.watch!('w/key', () => calls++);
    await f.run('increment', { key: 'w/key', n: 1 });
    await eventually(() => calls > 0);
    stop();
    const seen = calls;
    await f.run('increment', { key: 'w/key', n: 1 });
    // A read is a barrier: every push for the worker's acknowledged write has been delivered.
    expect((await state.read('w/key'))?.value).toBe(2);
    expect(calls).toBe(seen);
  });

  it('works once the namespace mirror is running, and a throwing callback does not stop the others', async () => {
    const f = fixture();
    const state = await f.open();
    const other = await f.open();
    for await (const _ of state.list({ prefix: '' })) void _; // starts the mirror
    let calls = 0;
    const stopThrowing = state.backend.watch!('m/key', () => {
      throw new Error('watcher bug');
    });
    const stop = state.backend.watch!('m/key', () => calls++);
    await other.write('m/key', 'x');
    await eventually(() => calls > 0);
    stop();
    stopThrowing();
    stopThrowing(); // stopping twice is harmless
  });

  it('close() stops every watch', async () => {
    const f = fixture();
    const state = await f.open();
    let calls = 0;
    state.backend.watch!('c/key', () => calls++);
    await state.read('c/key');
    await state.close();
    const seen = calls;
    await f.run('increment', { key: 'c/key', n: 1 });
    expect(calls).toBe(seen);
  });

  it('a subscriber that would not poll for a minute gets a message from another process', async () => {
    const f = fixture();
    const state = await f.open();
    const got: unknown[] = [];
    const unsubscribe = await state.subscribe('news', (m) => void got.push(m), { pollMs: 60_000, idlePollMs: 60_000 });
    await f.run('publish', { channel: 'news', name: 'p', n: 1 });
    await eventually(() => got.length === 1);
    expect(got[0]).toEqual({ publisher: 'p', i: 0 });
    await unsubscribe();
  });
});
