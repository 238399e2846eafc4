/** Damaged data is never overwritten; `repair(key)` is the one way past it. Store format upgrades. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError, InvalidConfigError, openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { childName, escapeName } from '../src/paths.js';
import { emulatorHost, freshConfig, removeNamespace } from './fixtures.js';

const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `damaged-test-${process.pid}`);
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

const entryRef = (config: CommunicationConfigInput, key: string) => db.ref(`${escapeName(config.namespace!)}/e/${childName(key)}`);

describe('firebase damaged data', () => {
  it('an entry with damaged JSON text refuses write, delete, increment, update and commit, and keeps its bytes', async () => {
    const config = freshConfig();
    const state = await open(config);
    await state.write('bad/json', 1);
    const damaged = { j: '{not json', v: 7, u: Date.now() };
    await entryRef(config, 'bad/json').set(damaged);
    await expect(state.read('bad/json')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.write('bad/json', 2)).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.delete('bad/json')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.increment('bad/json')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.update('bad/json', () => 3)).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.transaction((tx) => tx.write('bad/json', 4))).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.transaction((tx) => tx.delete('bad/json'))).rejects.toBeInstanceOf(CorruptDataError);
    expect((await entryRef(config, 'bad/json').once('value')).val()).toEqual(damaged);
  });

  it('repair removes a damaged entry and the key starts again above its version; a healthy key is left alone', async () => {
    const config = freshConfig();
    const state = await open(config);
    const backend = state.backend;
    await entryRef(config, 'bad/shape').set({ j: '"x"', v: 41, u: 'yesterday' });
    const report = await backend.repair!('bad/shape');
    expect(report).toMatchObject({ key: 'bad/shape', removed: true });
    expect(report.damage).toMatch(/not an agent-state entry/);
    expect(await state.read('bad/shape')).toBeNull();
    expect((await state.write('bad/shape', 'fresh')).version).toBeGreaterThan(41);

    await state.write('good', 1);
    expect(await backend.repair!('good')).toEqual({ key: 'good', removed: false });
    expect(await backend.repair!('never/there')).toEqual({ key: 'never/there', removed: false });
    expect((await state.read('good'))?.value).toBe(1);
  });

  it('a store without a format record is upgraded once: new keys start above every stored version', async () => {
    const config = freshConfig();
    const root = escapeName(config.namespace!);
    // A first-wave store: entries, no meta node.
    await db.ref(`${root}/e/${childName('old/a')}`).set({ j: '1', v: 12, u: Date.now() });
    await db.ref(`${root}/e/${childName('old/b')}`).set({ j: '2', v: 3, u: Date.now() });
    const state = await open(config);
    expect((await db.ref(`${root}/m`).once('value')).val()).toEqual({ fmt: 2, f: 12 });
    expect((await state.write('new/key', 'x')).version).toBe(13);
    expect((await state.read('old/a'))?.version).toBe(12);
    const second = await open(config);
    expect((await db.ref(`${root}/m`).once('value')).val()).toEqual({ fmt: 2, f: 12 });
    expect((await second.read('old/b'))?.value).toBe(2);
  });

  it('a store of a newer format is refused with InvalidConfigError naming both formats', async () => {
    const config = freshConfig();
    await db.ref(`${escapeName(config.namespace!)}/m`).set({ fmt: 99, f: 0 });
    const error = await open(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(String(error)).toMatch(/99.*2|format 99/);
    await removeNamespace(config.namespace);
  });
});
