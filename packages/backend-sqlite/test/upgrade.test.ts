/**
 * A first-wave store (format 1: no version floor, no native tables) is upgraded in place on
 * open: once, said on stderr, and its keys keep their versions while new keys start above every
 * version the store holds.
 */
import { spawnSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openState } from '@agent-state/core';
import type { SqliteBackend } from '../src/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/layout.js';
import { freshDatabasePath, removeDatabase } from './temp.js';

const paths: string[] = [];
afterEach(() => {
  for (const path of paths.splice(0)) removeDatabase(path);
});

/** A store as the first wave left it: format 1, two keys, one of them at version 7. */
function firstWaveStore(): string {
  const path = freshDatabasePath();
  paths.push(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(MIGRATIONS[0]!);
  db.pragma('user_version = 1');
  db.prepare(`INSERT INTO entries VALUES ('ns', 'old/a', '1', 7, NULL, 0, NULL), ('ns', 'old/b', '2', 3, NULL, 0, NULL), ('other', 'x', '3', 40, NULL, 0, NULL)`).run();
  db.close();
  return path;
}

/** Opens the store in a child process and returns what it printed on stderr and stdout. */
function openInChild(path: string): { stderr: string; stdout: string } {
  const script = `
    const { openState } = await import('@agent-state/core');
    const state = await openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: ${JSON.stringify(path)} } }, env: {} });
    const entry = await state.write('new/key', 'hello');
    console.log(JSON.stringify({ version: entry.version }));
    await state.close();
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: import.meta.dirname, timeout: 30_000 });
  expect(result.status, result.stderr).toBe(0);
  return { stderr: result.stderr, stdout: result.stdout };
}

describe('upgrading a first-wave store', () => {
  it('sets the floor above every existing version, says so once on stderr, and is idempotent', () => {
    const path = firstWaveStore();
    const first = openInChild(path);
    expect(first.stderr).toContain(`from format 1 to ${SCHEMA_VERSION}`);
    expect(first.stderr).toContain(path);
    expect(JSON.parse(first.stdout).version).toBe(8);
    const second = openInChild(path);
    expect(second.stderr).toBe('');
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare(`SELECT namespace, version_floor FROM namespaces ORDER BY namespace`).all()).toEqual([
        { namespace: 'ns', version_floor: 7 },
        { namespace: 'other', version_floor: 40 },
      ]);
    } finally {
      db.close();
    }
  });

  it('existing keys keep their versions and go on counting', async () => {
    const path = firstWaveStore();
    openInChild(path);
    const state = await openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: path } }, env: {} });
    try {
      expect((await state.read('old/b'))?.version).toBe(3);
      expect((await state.write('old/b', 'next')).version).toBe(4);
      await state.delete('old/a');
      expect((await state.write('old/a', 'again')).version).toBeGreaterThan(7);
    } finally {
      await state.close();
    }
  });
});

/** Adds first-wave coordination rows (core's portable layout) to a format-1 store. */
function addPortableCoordination(path: string, now: number): void {
  const db = new Database(path);
  const put = db.prepare(`INSERT INTO entries VALUES ('ns', ?, ?, 1, ?, ?, ?)`);
  const row = (key: string, value: unknown, expiresAt: number | null = null) => {
    const json = JSON.stringify(value);
    put.run(key, json, crc32(json), now - 1000, expiresAt);
  };
  const job = (priority: number, sequence: number, extra: Record<string, unknown> = {}) => ({
    payload: { task: sequence },
    priority,
    sequence,
    attempts: 0,
    enqueuedAt: now - 5000,
    visibleAt: now - 5000,
    lease: null,
    ...extra,
  });
  const id = (priority: number, sequence: number) => `${String(1_000_000 - priority).padStart(7, '0')}-${String(sequence).padStart(15, '0')}`;
  row('@q/tasks/seq', 5);
  row(`@q/tasks/j/${id(0, 1)}`, job(0, 1));
  row(`@q/tasks/j/${id(10, 2)}`, job(10, 2));
  row(`@q/tasks/j/${id(0, 3)}`, job(0, 3, { attempts: 1, visibleAt: now + 60_000, lease: { id: 'old-lease', owner: 'w', until: now + 60_000 } }));
  row(`@q/tasks/j/${id(0, 4)}`, job(0, 4, { visibleAt: now + 60_000 }));
  row(`@q/tasks/dead/${id(0, 5)}`, job(0, 5, { attempts: 3 }));
  row('@mail/agent-1/seq', 2);
  row('@mail/agent-1/m/000000000000002', { from: 'boss', to: 'agent-1', message: 'hi', priority: 0, sentAt: now - 900 });
  row('@ch/news/seq', 7);
  row('@ch/news/m/000000000000006', { message: 'gone', publishedAt: now - 90_000, publisher: 'p' }, now - 30_000);
  row('@ch/news/m/000000000000007', { message: 'fresh', publishedAt: now - 100, publisher: 'p' }, now + 59_900);
  row('@agents/agent-1', { status: 'ok' });
  // Damaged: stays where it is.
  put.run(`@q/tasks/j/${id(0, 9)}`, JSON.stringify(job(0, 9)), 12345, now, null);
  db.close();
}

describe('upgrading first-wave coordination keys', () => {
  it('moves queued jobs, mailbox and channel messages into the native tables with their numbering', async () => {
    const path = firstWaveStore();
    const now = Date.now();
    addPortableCoordination(path, now);
    const { stderr } = openInChild(path);
    expect(stderr).toContain('5 queued jobs and 2 mailbox/channel messages moved');
    const state = await openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: path } }, env: {} });
    try {
      const b = state.backend as unknown as SqliteBackend;
      expect(await b.queues.counts('tasks')).toEqual({ waiting: 2, inFlight: 1, delayed: 1, dead: 1 });
      const first = (await b.queues.claim('tasks', { leaseMs: 1000, owner: 't' }))!;
      expect(first).toMatchObject({ id: '2', sequence: 2, priority: 10, json: '{"task":2}' });
      expect(await b.queues.settle('tasks', '3', 'old-lease', { kind: 'extend', leaseMs: 1000 })).toBe(true);
      expect((await b.queues.enqueue('tasks', { json: '1', priority: 0 })).sequence).toBe(6);
      expect((await b.logs.read('mail/agent-1', { after: 0, limit: 10 })).map((r) => [r.seq, JSON.parse(r.json).message])).toEqual([[2, 'hi']]);
      expect((await b.logs.read('ch/news', { after: 0, limit: 10 })).map((r) => r.seq)).toEqual([7]);
      expect((await b.logs.append('mail/agent-1', ['"x"']))[0]!.seq).toBe(3);
      expect((await state.read('@agents/agent-1'))?.value).toEqual({ status: 'ok' });
      const db = new Database(path, { readonly: true });
      const left = (db.prepare(`SELECT key FROM entries WHERE namespace = 'ns' AND key LIKE '@%' ORDER BY key`).pluck().all() as string[]);
      db.close();
      // The expired channel message was not moved (the expiry sweep removed it); the damaged job stays.
      expect(left).toEqual(['@agents/agent-1', '@q/tasks/j/1000000-000000000000009']);
    } finally {
      await state.close();
    }
  });
});
