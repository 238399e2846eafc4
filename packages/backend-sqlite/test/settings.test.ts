import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, loadConfig, openState } from '@agent-state/core';
import { createBackend, createSqliteBackend } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/layout.js';
import { freshDir, removeDatabase } from './temp.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDatabase(join(dir, 'x'));
});
const dir = () => {
  const d = freshDir();
  dirs.push(d);
  return d;
};

describe('settings', () => {
  it('without database_path the database is <project>/.agent-state/state.db, created with its directory', async () => {
    const cwd = dir();
    const config = loadConfig({ config: { backend: 'sqlite' }, cwd, env: {} });
    const backend = createBackend(config);
    await backend.init({ namespace: 'default', connectTimeoutMs: 5_000 });
    try {
      const health = await backend.health();
      expect(health.target).toBe(join(cwd, '.agent-state', 'state.db'));
      expect(existsSync(health.target)).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('a relative database_path is resolved against the project directory', () => {
    const cwd = dir();
    const config = loadConfig({ config: { backend: 'sqlite', settings: { database_path: 'data/s.db' } }, cwd, env: {} });
    expect(() => createBackend(config)).not.toThrow();
    expect(createBackend(config).capabilities).toMatchObject({ multiProcess: true, persistent: true, nativeIncrement: true });
  });

  it('database_path ":memory:" gives a single-process, non-persistent store', () => {
    const config = loadConfig({ config: { backend: 'sqlite', settings: { database_path: ':memory:' } }, cwd: dir(), env: {} });
    expect(createBackend(config).capabilities).toMatchObject({ multiProcess: false, persistent: false });
  });

  it('synchronous full and busy_timeout_ms are applied; connection_pool_size is accepted', async () => {
    const path = join(dir(), 's.db');
    const state = await openState({
      config: { backend: 'sqlite', settings: { database_path: path, synchronous: 'full', busy_timeout_ms: 250, connection_pool_size: 10 } },
      env: {},
    });
    try {
      const health = await state.health();
      expect(health.details).toMatchObject({ synchronous: 'full', journalMode: 'wal' });
    } finally {
      await state.close();
    }
  });

  it('wrong options are an InvalidConfigError naming the option', () => {
    expect(() => createSqliteBackend({ databasePath: 'relative.db' })).toThrow(InvalidConfigError);
    expect(() => createSqliteBackend({ databasePath: '/tmp/x.db', busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(() => createSqliteBackend({ databasePath: '/tmp/x.db', synchronous: 'off' as 'full' })).toThrow(/synchronous/);
    expect(() => createSqliteBackend({ databasePath: '/tmp/x.db', connectionPoolSize: 0 })).toThrow(/connectionPoolSize/);
  });
});

describe('schema', () => {
  it('a new database is in WAL mode at the current user_version, with the entry, lock and native coordination tables', async () => {
    const path = join(dir(), 's.db');
    const state = await openState({ config: { backend: 'sqlite', settings: { database_path: path } }, env: {} });
    await state.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
      expect(tables).toEqual(['entries', 'fencing', 'locks', 'log_records', 'logs', 'namespaces', 'queue_jobs', 'queues']);
      const triggers = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'trigger'`).pluck().all();
      expect(triggers).toEqual(['entries_version_floor']);
    } finally {
      db.close();
    }
  });

  it('two namespaces in one file never see each other', async () => {
    const path = join(dir(), 's.db');
    const a = await openState({ config: { backend: 'sqlite', namespace: 'a', settings: { database_path: path } }, env: {} });
    const b = await openState({ config: { backend: 'sqlite', namespace: 'b', settings: { database_path: path } }, env: {} });
    try {
      await a.write('k', 'from a');
      expect(await b.read('k')).toBeNull();
      await b.write('k', 'from b');
      expect((await a.read('k'))?.value).toBe('from a');
      const lockA = await a.lock('r');
      const lockB = await b.lock('r', { waitMs: 0 });
      expect(lockB.token).toBe(1);
      await lockA.release();
      await lockB.release();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fencing tokens keep growing after release, expiry and reopening the file', async () => {
    const path = join(dir(), 's.db');
    const config = { backend: 'sqlite' as const, settings: { database_path: path } };
    let state = await openState({ config, env: {} });
    const first = await state.lock('res');
    await first.release();
    const second = await state.lock('res', { ttlMs: 20 });
    await new Promise((r) => setTimeout(r, 40));
    const third = await state.lock('res');
    await third.release();
    await state.close();
    state = await openState({ config, env: {} });
    const fourth = await state.lock('res');
    await state.close();
    expect([first.token, second.token, third.token, fourth.token]).toEqual([1, 2, 3, 4]);
  });
});
