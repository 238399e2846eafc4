/** Native logs against the emulator, through the backend surface. */
import { afterEach, describe, expect, it } from 'vitest';
import { NativeStore } from './native.js';
import { storageCount } from './fixtures.js';

const stores: NativeStore[] = [];
function store(): NativeStore {
  const s = new NativeStore();
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.dispose();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ i }));

describe('firebase native logs', () => {
  it('append gives strictly increasing seqs; read pages oldest first across the buffer and flushed records', async () => {
    const logs = (await store().open()).logs;
    expect(await logs.lastSeq('log/a')).toBe(0);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(...(await logs.append('log/a', json(40))).map((r) => r.seq));
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const all: number[] = [];
    for (let after = 0; ; ) {
      const page = await logs.read('log/a', { after, limit: 33 });
      if (page.length === 0) break;
      all.push(...page.map((r) => r.seq));
      after = page.at(-1)!.seq;
    }
    expect(all).toEqual(seqs);
    expect(JSON.parse((await logs.read('log/a', { after: 99, limit: 1 }))[0]!.json)).toEqual({ i: 19 });
    expect(await logs.lastSeq('log/a')).toBe(200);
  });

  it('trim by before, keepLast and age; lastSeq survives; remove drops single records', async () => {
    const logs = (await store().open()).logs;
    await logs.append('t', json(100));
    expect(await logs.trim('t', { before: 31 })).toBe(30);
    expect((await logs.read('t', { after: 0, limit: 1 }))[0]!.seq).toBe(31);
    expect(await logs.trim('t', { keepLast: 10 })).toBe(60);
    expect((await logs.read('t', { after: 0, limit: 100 })).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 91 + i));
    expect(await logs.remove('t', [92, 95, 95, 500, 3])).toBe(2);
    expect((await logs.read('t', { after: 90, limit: 3 })).map((r) => r.seq)).toEqual([91, 93, 94]);
    await sleep(1_000);
    await logs.append('t', json(1));
    // A cutoff halfway between the old records and the new one (500 ms of margin each side).
    const [at100, at101] = (await logs.read('t', { after: 99, limit: 2 })).map((r) => r.at) as [number, number];
    expect(await logs.trim('t', { olderThanMs: Date.now() - (at100 + at101) / 2 })).toBe(8);
    expect((await logs.read('t', { after: 0, limit: 10 })).map((r) => r.seq)).toEqual([101]);
    expect(await logs.lastSeq('t')).toBe(101);
    expect(await logs.trim('t', { keepLast: 0 })).toBe(1);
    expect(await logs.lastSeq('t')).toBe(101);
    expect((await logs.append('t', json(1)))[0]!.seq).toBe(102);
  });

  it('retention on append keeps at most maxLen records', async () => {
    const logs = (await store().open()).logs;
    for (let i = 0; i < 10; i++) await logs.append('ch/r', json(30), { retention: { maxLen: 25 } });
    const kept = await logs.read('ch/r', { after: 0, limit: 1000 });
    expect(kept.map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => 276 + i));
  });

  it('names(prefix) lists logs that hold records', async () => {
    const logs = (await store().open()).logs;
    await logs.append('mail/b', json(1));
    await logs.append('mail/a', json(1));
    await logs.append('ch/x', json(1));
    expect(await logs.names('mail/')).toEqual(['mail/a', 'mail/b']);
    await logs.remove('mail/a', [1]);
    expect(await logs.names('mail/')).toEqual(['mail/b']);
    expect(await logs.names('')).toEqual(['ch/x', 'mail/b']);
  });

  it('3 processes appending to one log: unique, strictly increasing seqs with no gap', async () => {
    const s = store();
    const logs = (await s.open()).logs;
    const startAt = Date.now() + 5_000;
    const workers = Array.from({ length: 3 }, () => s.spawn('append', { log: 'shared', n: 60, startAt }));
    const results = await Promise.all(workers.map((w) => w.next('done')));
    const perWorker = results.map((r) => r.seqs as number[]);
    for (const seqs of perWorker) for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    const all = perWorker.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 180 }, (_, i) => i + 1));
    const read = (await logs.read('shared', { after: 0, limit: 1000 })).map((r) => r.seq);
    expect(read).toEqual(all);
  }, 60_000);

  it('a listener in another process is woken by an append', async () => {
    const s = store();
    const logs = (await s.open()).logs;
    const worker = s.spawn('listen', { topic: { kind: 'log', name: 'ch/wake' } });
    await worker.next('listening');
    await logs.append('ch/wake', json(1));
    await worker.next('woken');
    expect(await worker.done).toBe(0);
  });

  it('trimmed and removed records leave nothing: storage back to its count after 10,000 records', async () => {
    const s = store();
    const logs = (await s.open()).logs;
    await logs.append('ch/short', json(1));
    await logs.append('mail/agent', json(1));
    await logs.trim('ch/short', { keepLast: 0 });
    await logs.remove('mail/agent', [1]);
    const before = await storageCount(s.config.namespace);
    for (let i = 0; i < 100; i++) {
      await logs.append('ch/short', json(50), { retention: { maxLen: 20 } });
      const sent = await logs.append('mail/agent', json(50));
      await logs.remove('mail/agent', sent.map((r) => r.seq));
    }
    expect((await logs.read('ch/short', { after: 0, limit: 100 })).length).toBe(20);
    await logs.trim('ch/short', { keepLast: 0 });
    expect(await logs.read('mail/agent', { after: 0, limit: 100 })).toEqual([]);
    expect(await storageCount(s.config.namespace)).toBe(before);
  }, 120_000);
});
