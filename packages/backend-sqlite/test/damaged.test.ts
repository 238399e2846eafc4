/**
 * Damaged data is never overwritten: where a read gives CorruptDataError, every write path on
 * that key gives it too and changes nothing; `repair(key)` is the only way past it. Entries are
 * damaged the way a disk or another tool would: the stored text changed under its checksum.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptDataError, openState, type CommunicationBackend, type StateClient } from '@agent-state/core';
import { freshDatabasePath, removeDatabase } from './temp.js';

let path: string;
let state: StateClient;
let backend: CommunicationBackend;
beforeEach(async () => {
  path = freshDatabasePath();
  state = await openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: path } }, env: {} });
  backend = state.backend;
});
afterEach(async () => {
  await state.close();
  removeDatabase(path);
});

/** The stored row, read around the backend. */
function rawRow(key: string): { value: string; version: number } | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT value, version FROM entries WHERE namespace = 'ns' AND key = ?`).get(key) as { value: string; version: number } | undefined;
  } finally {
    db.close();
  }
}

/** Changes the stored text of `key` without its checksum (a flipped byte). */
function damage(key: string, text: string): void {
  const db = new Database(path);
  try {
    db.prepare(`UPDATE entries SET value = ? WHERE namespace = 'ns' AND key = ?`).run(text, key);
  } finally {
    db.close();
  }
}

describe('damaged entries are never overwritten', () => {
  // Every operation refusing text that is not JSON, and repair, are the contract's damaged-data
  // group (test/damage.ts). Here: JSON that parses but no longer matches its checksum.
  it('valid JSON under a checksum it does not match is refused by read, write, delete and a blind commit, and left as is', async () => {
    await state.write('tasks/1', { status: 'done' });
    damage('tasks/1', '{"status":"dome"}');
    const before = rawRow('tasks/1');
    const corrupt = (e: unknown) => e instanceof CorruptDataError && e.message.includes('tasks/1');
    await expect(state.read('tasks/1')).rejects.toSatisfy(corrupt);
    await expect(state.write('tasks/1', { status: 'new' })).rejects.toSatisfy(corrupt);
    await expect(state.delete('tasks/1')).rejects.toSatisfy(corrupt);
    await expect(backend.commit({ reads: [], writes: [{ kind: 'write', key: 'tasks/1', value: 'tx', json: '"tx"' }] })).rejects.toSatisfy(corrupt);
    expect(rawRow('tasks/1')).toEqual(before);
  });

  it('a foreign row (NULL checksum) that is not JSON is protected the same way', async () => {
    const db = new Database(path);
    db.prepare(`INSERT INTO entries VALUES ('ns', 'foreign/bad', '{oops', 4, NULL, 0, NULL)`).run();
    db.close();
    await expect(state.write('foreign/bad', 1)).rejects.toBeInstanceOf(CorruptDataError);
    await expect(state.delete('foreign/bad')).rejects.toBeInstanceOf(CorruptDataError);
    expect(rawRow('foreign/bad')).toEqual({ value: '{oops', version: 4 });
  });

  it('a damaged entry that has expired reads as absent and may be written again', async () => {
    await state.write('short', 'x', { ttlMs: 30 });
    damage('short', '"y"');
    await new Promise((r) => setTimeout(r, 60));
    expect(await state.read('short')).toBeNull();
    const again = await state.write('short', 'fresh');
    expect(again.version).toBeGreaterThan(1);
  });

  it('repair of a checksum mismatch says so and removes the row', async () => {
    await state.write('tasks/2', 'a');
    damage('tasks/2', '"c"');
    const report = await backend.repair!('tasks/2');
    expect(report).toMatchObject({ key: 'tasks/2', removed: true });
    expect(report.damage).toMatch(/tasks\/2.*checksum/);
    expect(rawRow('tasks/2')).toBeUndefined();
  });

  it('repair leaves a sound entry and an absent key alone', async () => {
    const written = await state.write('ok', 1);
    expect(await backend.repair!('ok')).toEqual({ key: 'ok', removed: false });
    expect(await state.read('ok')).toMatchObject({ value: 1, version: written.version });
    expect(await backend.repair!('never')).toEqual({ key: 'never', removed: false });
  });
});
