import { afterEach, describe, expect, it } from 'vitest';
import { openState } from '@agent-state/core';
import { createSqliteBackend } from '../src/index.js';
import { freshDatabasePath, removeDatabase } from './temp.js';

const paths: string[] = [];
afterEach(() => {
  for (const path of paths.splice(0)) removeDatabase(path);
});

describe('watch', () => {
  it('wakes a watcher when another connection commits a write, and stops after unwatch', async () => {
    const path = freshDatabasePath();
    paths.push(path);
    const watcher = createSqliteBackend({ databasePath: path });
    await watcher.init({ namespace: 'ns', connectTimeoutMs: 5_000 });
    const writer = await openState({ config: { backend: 'sqlite', namespace: 'ns', settings: { database_path: path } }, env: {} });
    try {
      let calls = 0;
      let woken!: () => void;
      const wokenUp = new Promise<void>((resolve) => (woken = resolve));
      const unwatch = watcher.watch('@ch/news/seq', () => {
        calls++;
        woken();
      });
      await writer.write('@ch/news/seq', 1);
      await wokenUp;
      expect(calls).toBeGreaterThan(0);
      unwatch();
      const before = calls;
      await writer.write('@ch/news/seq', 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(calls).toBe(before);
    } finally {
      await writer.close();
      await watcher.close();
    }
  });

  it('an in-memory database wakes watchers of every client of the process on a write, and stops after unwatch', async () => {
    const watcher = createSqliteBackend({ databasePath: ':memory:' });
    await watcher.init({ namespace: 'ns', connectTimeoutMs: 5_000 });
    const writer = createSqliteBackend({ databasePath: ':memory:' });
    await writer.init({ namespace: 'ns', connectTimeoutMs: 5_000 });
    try {
      let calls = 0;
      let woken!: () => void;
      const wokenUp = new Promise<void>((resolve) => (woken = resolve));
      const unwatch = watcher.watch('k', () => {
        calls++;
        woken();
      });
      await writer.write('k', 1, { json: '1' });
      await wokenUp;
      unwatch();
      const before = calls;
      await writer.write('k', 2, { json: '2' });
      await new Promise((r) => setTimeout(r, 50));
      expect(calls).toBe(before);
    } finally {
      await writer.close();
      await watcher.close();
    }
  });
});
