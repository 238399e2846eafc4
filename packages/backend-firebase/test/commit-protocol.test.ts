/**
 * The per-key commit protocol (src/transaction.ts): what another client finds after a commit
 * stopped at each step, a real SIGKILL in the middle of transfers, and contention on one key from
 * four processes.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openState, type StateClient } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { NamespacePaths } from '../src/layout.js';
import { emulatorHost } from './fixtures.js';
import { NativeStore, eventually } from './native.js';

const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `commit-test-${process.pid}`);
const db = getDatabase(app);
const stores: NativeStore[] = [];

async function store(): Promise<{ s: NativeStore; state: StateClient; paths: NamespacePaths }> {
  const s = new NativeStore();
  stores.push(s);
  await s.open();
  const state = await openState({ config: s.config, env: {} });
  closers.push(() => state.close());
  return { s, state, paths: new NamespacePaths(s.config.namespace!) };
}
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const s of stores.splice(0)) await s.dispose();
});
afterAll(() => deleteApp(app));

const entry = (value: unknown, v: number) => ({ j: JSON.stringify(value), v, u: Date.now() });
const passed = () => ({ i: 'cdeadcommit', x: Date.now() - 1 });

describe('firebase commit protocol: recovery of a commit that stopped', () => {
  it('markers without an intent record (stopped before deciding) are released: the old values stay, the commit is aborted for good', async () => {
    const { state, paths } = await store();
    await state.write('acct/a', 10);
    await state.write('acct/b', 20);
    // What a commit that died after marking both nodes leaves behind.
    for (const key of ['acct/a', 'acct/b']) await db.ref(`${paths.entry(key)}/k`).set(passed());
    const entries = await state.readMany(['acct/a', 'acct/b']);
    expect(entries.map((e) => [e?.value, e?.version])).toEqual([
      [10, 1],
      [20, 1],
    ]);
    for (const key of ['acct/a', 'acct/b']) expect((await db.ref(`${paths.entry(key)}/k`).once('value')).val()).toBeNull();
    // The record that says "aborted" stays, so the owner could never decide later.
    expect((await db.ref(paths.intent('cdeadcommit')).once('value')).val()).toMatchObject({ s: 'a' });
    expect((await state.write('acct/a', 11)).version).toBe(2);
  });

  it('a committed intent whose nodes were not all applied is rolled forward by the next client that meets a marker', async () => {
    const { state, paths } = await store();
    await state.write('acct/a', 10);
    await state.write('acct/b', 20);
    const finalA = entry(9, 2);
    const finalB = entry(21, 2);
    // Decided, and applied to a only: b still carries the marker.
    await db.ref(paths.entry('acct/a')).set(finalA);
    await db.ref(`${paths.entry('acct/b')}/k`).set(passed());
    await db.ref(paths.intent('cdeadcommit')).set({
      s: 'c',
      d: Date.now(),
      w: JSON.stringify([
        [paths.entry('acct/a'), finalA],
        [paths.entry('acct/b'), finalB],
      ]),
    });
    expect((await state.read('acct/b'))?.value).toBe(21);
    expect((await state.read('acct/a'))?.value).toBe(9);
    expect((await db.ref(paths.intent('cdeadcommit')).once('value')).val()).toBeNull();
    expect((await db.ref(paths.entry('acct/b')).once('value')).val()).toEqual(finalB);
  });

  it('a write waits while a live marker holds the key, and goes through after the commit releases it', async () => {
    const { state, paths } = await store();
    await state.write('held', 1);
    await db.ref(`${paths.entry('held')}/k`).set({ i: 'clivecommit', x: Date.now() + 60_000 });
    let done = false;
    const write = state.write('held', 2).then((e) => {
      done = true;
      return e;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    await db.ref(`${paths.entry('held')}/k`).remove();
    expect((await write).version).toBe(2);
  });
});

describe('firebase commit protocol: real processes', () => {
  it('transfers killed with SIGKILL at a random moment leave the sum intact and no marker behind', async () => {
    const { s, state, paths } = await store();
    await state.write('bank/a', 1_000);
    await state.write('bank/b', 1_000);
    const worker = s.spawn('transfer', { a: 'bank/a', b: 'bank/b' });
    await worker.next('running');
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    s.killAll();
    await worker.done;
    // Anything the dead commit left is recovered by this client's reads within the marker lease.
    const [a, b] = await state.readMany(['bank/a', 'bank/b']);
    expect((a!.value as number) + (b!.value as number)).toBe(2_000);
    await state.write('bank/a', a!.value);
    await eventually(async () => {
      const nodes = await Promise.all(['bank/a', 'bank/b'].map(async (k) => (await db.ref(`${paths.entry(k)}/k`).once('value')).val() as unknown));
      return nodes.every((n) => n === null);
    });
  });

  it('4 processes × 200 increments of one key end exact, with no maxretry or timeout surfacing', async () => {
    const { s, state } = await store();
    const startAt = Date.now() + 1_500;
    const workers = Array.from({ length: 4 }, () => s.spawn('increment', { key: 'hot/counter', n: 200, startAt }));
    await Promise.all(workers.map((w) => w.next('ready')));
    const results = await Promise.all(workers.map(async (w) => (await w.next('done')).results as number[]));
    expect(await Promise.all(workers.map((w) => w.done))).toEqual([0, 0, 0, 0]);
    expect((await state.read('hot/counter'))?.value).toBe(800);
    // Every result is a distinct step of the counter.
    expect(new Set(results.flat()).size).toBe(800);
  }, 300_000);
});
