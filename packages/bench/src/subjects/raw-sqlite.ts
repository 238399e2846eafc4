/**
 * Raw better-sqlite3 baseline: the same table shape a hand-written store would use, WAL with
 * synchronous=NORMAL, prepared statements, autocommit upserts, BEGIN IMMEDIATE for
 * read-modify-write.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

export const rawSqlite: SubjectSpec = {
  id: 'raw',
  kind: 'raw',
  label: 'better-sqlite3: prepared autocommit upsert; select+JSON.parse; BEGIN IMMEDIATE rmw (WAL, NORMAL)',
  capabilities: ['read', 'write', 'rmw'],
  async open(store: StoreRef): Promise<Subject> {
    const db = new Database(join(store.root, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL)');
    const upsert = db.prepare(
      'INSERT INTO kv (key, value, version) VALUES (?, ?, 1) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = version + 1',
    );
    const select = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
    const read = (key: string): unknown => {
      const row = select.get(key);
      return row === undefined ? undefined : JSON.parse(row.value);
    };
    const rmw = db.transaction((key: string, fn: (value: unknown) => unknown) => {
      upsert.run(key, JSON.stringify(fn(read(key))));
    });
    return {
      read: async (key) => read(key),
      write: async (key, value) => {
        upsert.run(key, JSON.stringify(value));
      },
      rmw: async (key, fn) => {
        rmw.immediate(key, fn);
      },
      close: async () => {
        db.close();
      },
    };
  },
};
