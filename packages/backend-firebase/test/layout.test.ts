/** Behaviour specific to the Realtime Database layout: names, namespaces, damaged nodes, expiry. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError, openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { NamespacePaths, childName, escapeName } from '../src/layout.js';
import { emulatorHost, freshConfig, removeNamespace } from './fixtures.js';

const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `layout-test-${process.pid}`);
const db = getDatabase(app);
const opened: { state: StateClient; config: CommunicationConfigInput }[] = [];

async function open(config = freshConfig()): Promise<StateClient> {
  const state = await openState({ config, env: {} });
  opened.push({ state, config });
  return state;
}

afterEach(async () => {
  for (const { state, config } of opened.splice(0)) {
    await state.close();
    await removeNamespace(config.namespace);
  }
});
afterAll(() => deleteApp(app));

describe('firebase layout', () => {
  it('keys with dots, slashes and integer-like segments round trip and list in code-unit order', async () => {
    const state = await open();
    const keys = ['0', '1', '10', '2', '9', 'a.b', 'a/b', 'a-b', 'a,b', 'a..b/.c', 'A', '@x'];
    for (const key of keys) await state.write(key, { key });
    for (const key of keys) expect((await state.read(key))?.value).toEqual({ key });
    const listed: string[] = [];
    for await (const entry of state.list({ prefix: '' })) listed.push(entry.key);
    expect(listed).toEqual(keys.filter((k) => !k.startsWith('@')).sort());
  });

  it('a namespace is a top-level node and two namespaces never see each other', async () => {
    const a = freshConfig();
    const b = freshConfig();
    const sa = await open(a);
    const sb = await open(b);
    await sa.write('shared/name', 'from a');
    expect(await sb.read('shared/name')).toBeNull();
    const raw = (await db.ref(new NamespacePaths(a.namespace!).entry('shared/name')).once('value')).val() as { j: string; v: number };
    expect(JSON.parse(raw.j)).toBe('from a');
    expect(raw.v).toBe(1);
  });

  it('a damaged entry node is a CorruptDataError on read, list and write, and is never overwritten', async () => {
    const config = freshConfig();
    const state = await open(config);
    const path = new NamespacePaths(config.namespace!).entry('bad/key');
    await db.ref(path).set({ something: 'else' });
    await expect(state.read('bad/key')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.write('bad/key', 1)).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.delete('bad/key')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.list({ prefix: 'bad/' }).next()).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.transaction((tx) => tx.write('bad/key', 2))).rejects.toBeInstanceOf(CorruptDataError);
    expect((await db.ref(path).once('value')).val()).toEqual({ something: 'else' });
    await db.ref(path).set({ j: '{not json', v: 1, u: Date.now() });
    await expect(state.read('bad/key')).rejects.toThrow(/not valid JSON/);
  });

  it('list turns expired entries into tombstones holding their last version (lazy expiry)', async () => {
    const config = freshConfig();
    const state = await open(config);
    await state.write('ttl/short', 1, { ttlMs: 50 });
    await state.write('ttl/long', 2);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const listed: string[] = [];
    for await (const entry of state.list({ prefix: 'ttl/' })) listed.push(entry.key);
    expect(listed).toEqual(['ttl/long']);
    const raw = await db.ref(new NamespacePaths(config.namespace!).entry('ttl/short')).once('value');
    expect(raw.val()).toMatchObject({ v: 1 });
    expect(Object.keys(raw.val() as object).sort()).toEqual(['d', 'v']);
    expect((await state.write('ttl/short', 3)).version).toBe(2);
  });

  it('the fencing counter survives release, so tokens keep growing', async () => {
    const config = freshConfig();
    const state = await open(config);
    const first = await state.lock('res/a', { ttlMs: 5_000 });
    await first.release();
    const second = await state.lock('res/a', { ttlMs: 5_000 });
    expect(second.token).toBe(first.token + 1);
    await second.release();
    const node = (await db.ref(`${escapeName(config.namespace!)}/l/${childName('res/a')}`).once('value')).val();
    expect(node).toEqual({ c: second.token });
  });

  it('a read-only transaction commits without writing and conflicts when its read went stale', async () => {
    const a = await open();
    await a.write('ro/k', 1);
    const clean = await a.begin();
    await clean.read('ro/k');
    await clean.commit();
    const stale = await a.begin();
    await stale.read('ro/k');
    await a.write('ro/k', 2);
    await expect(stale.commit()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await a.read('ro/k'))?.version).toBe(2);
  });

  it('health reports a round trip to the emulator', async () => {
    const state = await open();
    const health = await state.health();
    expect(health).toMatchObject({ ok: true, backend: 'firebase', details: { emulator: true } });
    expect(health.target).toContain(emulatorHost());
  });
});
