/**
 * `list` paging over a big namespace (issue 15 item 4): every key exactly once, in order, with the
 * sorted-name cache of big directories in play, and changes made between pages seen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const pad = (n: number): string => String(n).padStart(6, '0');

describe('list paging', () => {
  it('pages 10,000 keys 100 at a time: each key exactly once, in key order, changes between pages seen', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { durability: 'none', backup_count: 0 });
    try {
      const expected = new Set<string>();
      // A flat directory big enough to be cached, with subdirectories and a key that is also a
      // directory (big/n000100 and big/n000100/…) among its names.
      for (let i = 0; i < 10_000; i++) {
        const key = `big/n${pad(i * 2)}`;
        await state.write(key, i);
        expected.add(key);
      }
      for (const sub of ['big/n000100/x', 'big/n000100/y', 'big/m/1', 'big/n0399990/z']) {
        await state.write(sub, sub);
        expected.add(sub);
      }
      await state.write('bif', 'outside the prefix');
      await state.write('bih/0', 'outside the prefix');

      const backend = state.backend;
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page: Entry[] = await backend.list({ prefix: 'big/', limit: 100, ...(after !== undefined && { after }) });
        seen.push(...page.map((e) => e.key));
        pages++;
        if (pages === 50) {
          // Ahead of the cursor: a new key must show up, a deleted one must not.
          await state.write('big/n015001', 'new');
          expected.add('big/n015001');
          await state.delete('big/n016000');
          expected.delete('big/n016000');
          // Behind the cursor: not listed again.
          await state.write('big/n000001', 'behind');
        }
        if (page.length < 100) break;
        after = page[page.length - 1]!.key;
      }
      const want = [...expected].sort();
      expect(seen.length).toBe(want.length);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(want);

      // The same namespace in one page (no cursor) and through core's paging agree.
      const whole = await backend.list({ prefix: 'big/', limit: 1_000_000 });
      const wantNow = [...expected, 'big/n000001'].sort();
      expect(whole.map((e) => e.key)).toEqual(wantNow);
      const viaCore: string[] = [];
      for await (const entry of state.list({ prefix: 'big/' })) viaCore.push(entry.key);
      expect(viaCore).toEqual(wantNow);
    } finally {
      await state.close();
    }
  }, 300_000);
});
