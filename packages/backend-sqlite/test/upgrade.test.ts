/**
 * A first-wave store (format 1: no version floor, no native tables) is upgraded in place on
 * open: once, said on stderr, and its keys keep their versions while new keys start above every
 * version the store holds.
 */
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openState } from '@agent-state/core';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/schema.js';
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
