import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { families, usePortableCoordination } from '../src/coordination/families.js';
import { blockingWait } from '../src/coordination/wait.js';
import { StateClosedError } from '../src/errors.js';
import { memoryStoreCount } from '../src/memory/memory-backend.js';
import { openState } from '../src/open-state.js';
import type { StateClient } from '../src/client.js';

const open: StateClient[] = [];
async function client(namespace = `c-${randomUUID()}`): Promise<StateClient> {
  const state = await openState({ config: { backend: 'memory', namespace }, env: {} });
  open.push(state);
  return state;
}
/** Polls `ready` every 5 ms until it holds; fails naming `what` after 4 s (inside the test's timeout). */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 4_000;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`${what} did not arrive within 4 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('blocking waits and close', () => {
  it('close() ends a waiting dequeue, receive and waitFor at once with StateClosedError', async () => {
    const state = await client();
    const waits = [
      state.queue('q').dequeue({ waitMs: 60_000 }),
      state.mailbox('m').receive({ waitMs: 60_000 }),
      state.waitFor('k', () => false, { timeoutMs: 60_000 }),
    ];
    await new Promise((r) => setTimeout(r, 20));
    // Each wait would last a minute; the test's 5 s timeout shows close() ended them.
    await state.close();
    for (const w of waits) await expect(w).rejects.toBeInstanceOf(StateClosedError);
  });

  it('a follow loop ends quietly when the client closes', async () => {
    const state = await client();
    const seen: unknown[] = [];
    const loop = (async () => {
      for await (const r of state.log('l').follow({ after: 0 })) seen.push(r.record);
    })();
    await state.log('l').append('one');
    await until(() => seen.length >= 1, 'the followed record');
    await state.close();
    await loop;
    expect(seen).toEqual(['one']);
  });

  it('a wakeup that lands between a check and the wait is not lost', async () => {
    let wake: () => void = () => undefined;
    let checks = 0;
    const result = await blockingWait<string>({
      check: async () => {
        checks++;
        // The second check fires the wakeup itself, before the loop goes to sleep.
        if (checks === 2) wake();
        return checks >= 3 ? 'done' : undefined;
      },
      listen: async (onWake) => {
        wake = onWake;
        return async () => undefined;
      },
      waitMs: 60_000,
      // A re-check timer this long would make the test time out if the wakeup were lost.
      maxRecheckMs: 60_000,
    });
    expect(result).toBe('done');
  });
});

describe('families', () => {
  it('memory uses the portable families; usePortableCoordination must come before first use', async () => {
    const state = await client();
    expect(families(state).native).toEqual({ queues: false, logs: false, notify: false });
    expect(() => usePortableCoordination(state)).toThrow(/before the first coordination call/);
    const fresh = await client();
    usePortableCoordination(fresh);
    expect(families(fresh).native.queues).toBe(false);
  });

  it('first-wave channel and mailbox keys read unchanged through the logs family', async () => {
    const namespace = `c-${randomUUID()}`;
    const state = await client(namespace);
    // What a first-wave client wrote: the counter and one message in the old layout.
    await state.write('@ch/old/seq', 1);
    await state.write('@ch/old/m/000000000000001', { message: 'hello', publishedAt: 1, publisher: 'old' });
    await state.write('@mail/bob/seq', 1);
    await state.write('@mail/bob/m/000000000000001', { from: 'alice', to: 'bob', message: 'hi', priority: 0, sentAt: 1 });
    const got: unknown[] = [];
    const sub = await state.subscribe('old', (m) => void got.push(m), { after: 0 });
    await until(() => got.length >= 1, 'the replayed message');
    await sub.close();
    expect(got).toEqual(['hello']);
    const inbox = await state.mailbox('bob').receive();
    expect(inbox.map((m) => [m.id, m.from, m.message])).toEqual([['000000000000001', 'alice', 'hi']]);
    expect((await state.publish('old', 'next')).sequence).toBe(2);
  });
});

describe('repair', () => {
  it('leaves a sound or absent key alone (memory never holds damaged data)', async () => {
    const state = await client();
    const first = await state.write('r/k', 1);
    expect(await state.repair('r/k')).toEqual({ key: 'r/k', removed: false });
    expect(await state.read('r/k')).toMatchObject({ value: 1, version: first.version });
    expect(await state.repair('r/none')).toEqual({ key: 'r/none', removed: false });
    await expect(state.repair('bad//key')).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});

describe('portable retention', () => {
  it('publishers sweep expired messages themselves: no explicit trim, storage stays bounded', async () => {
    const namespace = `c-${randomUUID()}`;
    const state = await client(namespace);
    for (let i = 0; i < 100; i++) await state.publish('busy', i, { retentionMs: 10 });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 64; i++) await state.publish('busy', i, { retentionMs: 60_000 });
    // 64 live messages + the counter + the low-water mark; none of the 100 expired ones.
    expect(memoryStoreCount(namespace)).toBe(64 + 2);
  });
});

describe('subscription objects', () => {
  it('is callable, has close and closed, and an onError that throws ends it with that error', async () => {
    const state = await client();
    const sub = await state.subscribe(
      'c',
      () => {
        throw new Error('handler');
      },
      {
        onError: () => {
          throw new Error('onError itself failed');
        },
      },
    );
    expect(typeof sub).toBe('function');
    expect(sub.channel).toBe('c');
    await state.publish('c', 1);
    await expect(sub.closed).rejects.toThrow(/onError itself failed/);
    await sub();
  });
});
