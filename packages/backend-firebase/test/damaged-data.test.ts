/** Damaged data is never overwritten; `repair(key)` is the one way past it. Store format upgrades. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError, InvalidConfigError, openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { NamespacePaths, childName, escapeName } from '../src/layout.js';
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

const entryRef = (config: CommunicationConfigInput, key: string) => db.ref(new NamespacePaths(config.namespace!).entry(key));

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
    expect((await db.ref(`${root}/m`).once('value')).val()).toEqual({ fmt: 3, f: 12 });
    expect((await state.write('new/key', 'x')).version).toBe(13);
    expect((await state.read('old/a'))?.version).toBe(12);
    const second = await open(config);
    expect((await db.ref(`${root}/m`).once('value')).val()).toEqual({ fmt: 3, f: 12 });
    expect((await second.read('old/b'))?.value).toBe(2);
  });

  it('the upgrade moves first-wave queue jobs, channels and mailboxes into the native layout', async () => {
    const config = freshConfig();
    const root = escapeName(config.namespace!);
    const now = Date.now();
    const put = (key: string, value: unknown, v = 1) => db.ref(`${root}/e/${childName(key)}`).set({ j: JSON.stringify(value), v, u: now });
    const job = (sequence: number, extra: object = {}) => ({ payload: { n: sequence }, priority: 0, sequence, attempts: 0, enqueuedAt: now, visibleAt: now, lease: null, ...extra });
    await put('@q/tasks/seq', 3, 3);
    await put('@q/tasks/j/1000000-000000000000001', job(1));
    await put('@q/tasks/j/1000000-000000000000002', job(2, { attempts: 1, lease: { id: 'abc', until: now + 60_000 } }));
    await put('@q/tasks/dead/1000000-000000000000003', job(3, { attempts: 5 }));
    await put('@ch/news/seq', 2, 2);
    await put('@ch/news/m/000000000000002', { from: 'p', message: 'two', publishedAt: now });
    await put('@mail/bob/seq', 1);
    await put('@mail/bob/m/000000000000001', { from: 'alice', message: 'hi', sentAt: now });
    await put('plain/key', 'stays');
    const state = await open(config);
    const b = state.backend;
    expect(await b.queues!.counts('tasks')).toEqual({ waiting: 1, inFlight: 1, delayed: 0, dead: 1 });
    const claimed = (await b.queues!.claim('tasks', { leaseMs: 10_000, owner: 't' }))!;
    expect(JSON.parse(claimed.json)).toEqual({ n: 1 });
    expect((await b.queues!.enqueue('tasks', { json: '4', priority: 0 })).sequence).toBe(4);
    expect((await b.logs!.read('ch/news', { after: 0, limit: 10 })).map((r) => [r.seq, JSON.parse(r.json).message])).toEqual([[2, 'two']]);
    expect((await b.logs!.append('ch/news', ['"three"']))[0]!.seq).toBe(3);
    expect((await b.logs!.read('mail/bob', { after: 0, limit: 10 })).map((r) => r.seq)).toEqual([1]);
    expect(await b.queues!.names()).toEqual(['tasks']);
    expect(await state.read('@q/tasks/seq')).toBeNull();
    expect((await state.read('plain/key'))?.value).toBe('stays');
    expect((await state.write('@q/tasks/seq', 0)).version).toBe(4);
  });

  it('a format-2 store is upgraded in place: entries move to order-keeping names, keep their versions and list in key order', async () => {
    const config = freshConfig();
    const root = escapeName(config.namespace!);
    const now = Date.now();
    await db.ref(`${root}/m`).set({ fmt: 2, f: 4 });
    const legacy = { 'b.x': 1, 'a/b': 2, 'a-b': 3, 'a+b': 4, 'a,b': 5 } as Record<string, number>;
    for (const [key, n] of Object.entries(legacy)) await db.ref(`${root}/e/${childName(key)}`).set({ j: JSON.stringify(n), v: n + 10, u: now });
    await db.ref(`${root}/e/${childName('gone/key')}`).set({ v: 30, d: now });
    const state = await open(config);
    expect((await db.ref(`${root}/m`).once('value')).val()).toEqual({ fmt: 3, f: 4 });
    expect((await db.ref(`${root}/e`).once('value')).val()).toBeNull();
    for (const [key, n] of Object.entries(legacy)) expect(await state.read(key)).toMatchObject({ value: n, version: n + 10 });
    const listed: string[] = [];
    for await (const e of state.list({ prefix: '' })) listed.push(e.key);
    expect(listed).toEqual(Object.keys(legacy).sort());
    // The tombstone moved too: the key's next incarnation starts above its last version.
    expect((await state.write('gone/key', 1)).version).toBe(31);
    // A second client (or a re-run after a crash) finds nothing left to move and changes nothing.
    const second = await open(config);
    expect((await second.read('a-b'))?.version).toBe(13);
  });

  it('a store of a newer format is refused with InvalidConfigError naming both formats', async () => {
    const config = freshConfig();
    await db.ref(`${escapeName(config.namespace!)}/m`).set({ fmt: 99, f: 0 });
    const error = await open(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(String(error)).toMatch(/99.*3|format 99/);
    await removeNamespace(config.namespace);
  });
});
