import assert from 'node:assert/strict';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

async function keysOf(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of iterable) keys.push(e.key);
  return keys;
}

/** Promise 8: key order, prefix, after/limit paging, each stable key exactly once. */
export function listGroup(t: TestApi, target: ContractTarget): void {
  t.describe('list', () => {
    fixtureTest(t, target, 'list returns entries in key order, filtered by prefix', async (f) => {
      const state = await f.open();
      const keys = ['l/b', 'l/a', 'l/a/1', 'l/a-1', 'l/a.1', 'l/B', 'l/a:z', 'l/=', 'l/@', 'l/,', 'l/_', 'm/x', 'k/x'];
      for (const k of keys) await state.write(k, k);
      const expected = keys.filter((k) => k.startsWith('l/')).sort();
      const listed: { key: string; value: unknown; version: number }[] = [];
      for await (const e of state.list({ prefix: 'l/' })) listed.push(e);
      assert.deepEqual(listed.map((e) => e.key), expected);
      for (const e of listed) {
        assert.equal(e.value, e.key);
        assert.equal(e.version, 1);
      }
      assert.deepEqual(await keysOf(state.list({ prefix: 'l/a' })), expected.filter((k) => k.startsWith('l/a')));
      assert.deepEqual(await keysOf(state.list()), [...keys].sort());
      assert.deepEqual(await keysOf(state.list({ prefix: 'zzz' })), []);
    });

    fixtureTest(t, target, 'after and limit page through the keys', async (f) => {
      const state = await f.open();
      const keys = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
      for (const k of keys) await state.write(k, 1);
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await keysOf(state.list({ prefix: 'p/', limit: 10, ...(after !== undefined && { after }) }));
        if (page.length === 0) break;
        pages.push(page);
        after = page[page.length - 1];
      }
      assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
      assert.deepEqual(pages.flat(), keys);
      assert.deepEqual(await keysOf(state.list({ after: 'p/020' })), keys.slice(21));
    });

    fixtureTest(
      t,
      target,
      'a key that exists throughout a listing is returned exactly once while other keys are written',
      async (f) => {
        const state = await f.open();
        const writer = await f.open();
        const stable = Array.from({ length: 300 }, (_, i) => `s/${String(i * 2).padStart(4, '0')}`);
        for (const k of stable) await state.write(k, 'stable');
        const seen: string[] = [];
        let i = 0;
        for await (const e of state.list({ prefix: 's/' })) {
          seen.push(e.key);
          // Insert keys before and after the cursor and rewrite stable ones, while listing.
          if (i % 10 === 0) {
            await writer.write(`s/${String(i * 2 + 1).padStart(4, '0')}`, 'new');
            await writer.write(`s/${String(599 - i).padStart(4, '0')}`, 'new');
            await writer.write(stable[(i * 7) % stable.length]!, 'rewritten');
          }
          i++;
        }
        const counts = new Map<string, number>();
        for (const k of seen) counts.set(k, (counts.get(k) ?? 0) + 1);
        for (const k of stable) assert.equal(counts.get(k), 1, `${k} listed exactly once`);
        for (const [k, c] of counts) assert.equal(c, 1, `${k} listed once`);
        assert.deepEqual(seen, [...seen].sort(), 'in key order');
      },
      90_000,
    );
  });
}
