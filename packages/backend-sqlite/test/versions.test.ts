/**
 * The version floor on the paths the shared contract cannot reach: the expiry sweep deleting an
 * expired row, and another tool's DELETE. Both go through the AFTER DELETE trigger.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openState, type StateClient } from '@agent-state/core';
import { freshDatabasePath, removeDatabase } from './temp.js';

const paths: string[] = [];
const clients: StateClient[] = [];
async function open(path: string): Promise<StateClient> {
  const state = await openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: path } }, env: {} });
  clients.push(state);
  return state;
}
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const p of paths.splice(0)) removeDatabase(p);
});
const fresh = () => {
  const p = freshDatabasePath();
  paths.push(p);
  return p;
};
const rowCount = (path: string, key: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM entries WHERE namespace = 'ns' AND key = ?`).pluck().get(key) as number;
  } finally {
    db.close();
  }
};

describe('version floor', () => {
  it('an expired row removed by the sweep raises the floor: the key comes back above its old version', async () => {
    const path = fresh();
    const a = await open(path);
    await a.write('k', 1);
    await a.write('k', 2);
    const last = await a.write('k', 3, { ttlMs: 20 });
    await new Promise((r) => setTimeout(r, 50));
    // A new client's first write runs the expiry sweep, which deletes the expired row.
    const b = await open(path);
    await b.write('other', 'x');
    expect(rowCount(path, 'k')).toBe(0);
    const again = await b.write('k', 'new', { ifVersion: 'absent' });
    expect(again.version).toBeGreaterThan(last.version);
  });

  it("another tool's DELETE raises the floor too", async () => {
    const path = fresh();
    const a = await open(path);
    const written = await a.write('k', 'v');
    await a.write('k', 'w');
    const db = new Database(path);
    db.prepare(`DELETE FROM entries WHERE namespace = 'ns' AND key = 'k'`).run();
    db.close();
    expect((await a.write('k', 'back')).version).toBeGreaterThan(written.version + 1);
  });

  it('floors are per namespace', async () => {
    const path = fresh();
    const a = await open(path);
    for (let i = 0; i < 5; i++) await a.write('k', i);
    await a.delete('k');
    const other = await openState({ config: { backend: 'sqlite', namespace: 'other', settings: { database_path: path } }, env: {} });
    clients.push(other);
    expect((await other.write('k', 'first')).version).toBe(1);
    expect((await a.write('fresh', 'x')).version).toBe(6);
  });
});
