import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, CorruptDataError, InvalidConfigError, openState, type StateClient } from '@agent-state/core';
import { SCHEMA_VERSION } from '../src/layout.js';
import { freshDatabasePath, removeDatabase } from './temp.js';

const paths: string[] = [];
const fresh = () => {
  const path = freshDatabasePath();
  paths.push(path);
  return path;
};
const open = (path: string, settings: Record<string, unknown> = {}) =>
  openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: path, ...settings } }, env: {} });
afterEach(() => {
  for (const path of paths.splice(0)) removeDatabase(path);
});

describe('opening a database that cannot be used', () => {
  it('a file that is not a SQLite database is a CorruptDataError naming the path, and is left untouched', async () => {
    const path = fresh();
    const text = 'these are my notes, not a database\n'.repeat(200);
    writeFileSync(path, text);
    const error = await open(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('a path that cannot be created (under a regular file) is a BackendUnavailableError naming the path', async () => {
    const error = await open('/etc/hostname/state.db').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).message).toContain('/etc/hostname/state.db');
  });

  it('a database held exclusively by another connection past connect_timeout_ms is a BackendUnavailableError', async () => {
    const path = fresh();
    const holder = new Database(path);
    holder.exec('CREATE TABLE other (x); BEGIN EXCLUSIVE; INSERT INTO other VALUES (1);');
    try {
      const error = await open(path, { connect_timeout_ms: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as BackendUnavailableError).message).toContain(path);
      expect((error as BackendUnavailableError).message).toContain('connect_timeout_ms');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('a database newer than this package is an InvalidConfigError naming both versions, not a silent downgrade', async () => {
    const path = fresh();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const error = await open(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toMatch(/schema\) version 99/);
    expect((error as Error).message).toContain(`(${SCHEMA_VERSION})`);
  });
});

describe('a database locked while in use', () => {
  let state: StateClient | undefined;
  afterEach(async () => {
    await state?.close();
    state = undefined;
  });

  it('a write waits for another process\'s write lock and succeeds once it is released', async () => {
    const path = fresh();
    state = await open(path);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    setTimeout(() => holder.exec('COMMIT'), 100);
    try {
      const entry = await state.write('k', 1);
      expect(entry.version).toBe(1);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('a write that finds the database locked past busy_timeout_ms is a BackendUnavailableError; the client stays usable', async () => {
    const path = fresh();
    state = await open(path, { busy_timeout_ms: 200 });
    await state.write('k', 1);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const error = await state.write('k', 2).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toContain('busy_timeout_ms');
      expect((await state.read('k'))?.value).toBe(1);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect((await state.write('k', 3)).version).toBe(2);
  });
});

describe('damaged rows', () => {
  it('a value that no longer matches its checksum reads as CorruptDataError naming the row, never as absent', async () => {
    const path = fresh();
    const state = await open(path);
    try {
      await state.write('tasks/1', { status: 'done' });
      const db = new Database(path);
      db.prepare(`UPDATE entries SET value = '{"status":"dome"}' WHERE key = 'tasks/1'`).run();
      db.close();
      const error = await state.read('tasks/1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain('tasks/1');
      await expect(state.increment('tasks/1')).rejects.toBeInstanceOf(CorruptDataError);
    } finally {
      await state.close();
    }
  });

  it('a row written by another tool with a NULL checksum is read (its JSON still checked)', async () => {
    const path = fresh();
    const state = await open(path);
    try {
      const db = new Database(path);
      db.prepare(`INSERT INTO entries VALUES ('ns', 'foreign/ok', '[1,2]', 1, NULL, 0, NULL), ('ns', 'foreign/bad', '{oops', 1, NULL, 0, NULL)`).run();
      db.close();
      expect((await state.read('foreign/ok'))?.value).toEqual([1, 2]);
      await expect(state.read('foreign/bad')).rejects.toBeInstanceOf(CorruptDataError);
    } finally {
      await state.close();
    }
  });
});
