import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StateClosedError, openState } from '@agent-state/core';
import { createSqliteBackend } from '../src/index.js';
import { freshDatabasePath, removeDatabase } from './temp.js';

const paths: string[] = [];
const fresh = () => {
  const path = freshDatabasePath();
  paths.push(path);
  return path;
};
afterEach(() => {
  for (const path of paths.splice(0)) removeDatabase(path);
});

describe('expired rows', () => {
  it('are deleted lazily by a sweep that follows a later write, while reading as absent at once', async () => {
    const path = fresh();
    const config = { backend: 'sqlite' as const, settings: { database_path: path } };
    const first = await openState({ config, env: {} });
    await first.write('short', 1, { ttlMs: 10 });
    await first.write('kept', 2);
    const lock = await first.lock('res', { ttlMs: 10 });
    await new Promise((r) => setTimeout(r, 30));
    expect(await first.read('short')).toBeNull();
    await first.close();
    const second = await openState({ config, env: {} });
    await second.write('other', 3);
    await second.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT key FROM entries ORDER BY key').pluck().all()).toEqual(['kept', 'other']);
      expect(db.prepare('SELECT count(*) FROM locks').pluck().get()).toBe(0);
      expect(db.prepare('SELECT last_token FROM fencing').pluck().get()).toBe(lock.token);
    } finally {
      db.close();
    }
  });
});

describe('close', () => {
  it('an operation waiting for a locked database when the client closes rejects with StateClosedError', async () => {
    const path = fresh();
    const backend = createSqliteBackend({ databasePath: path });
    await backend.init({ namespace: 'ns', connectTimeoutMs: 5_000 });
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const pending = backend.write('k', 1, { json: '1' });
      await new Promise((r) => setTimeout(r, 50));
      await backend.close();
      await expect(pending).rejects.toBeInstanceOf(StateClosedError);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await backend.close();
  });
});
