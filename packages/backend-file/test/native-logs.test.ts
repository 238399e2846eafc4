import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError, type NativeLogs, type StateClient } from '@agent-state/core';
import { openFile, openScript, removeTempDirs, runNode, tempDir, until } from './helpers.js';
import { storageCountOf } from './storage-count.js';

afterEach(removeTempDirs);

const logsOf = (state: StateClient): NativeLogs => {
  const logs = state.backend.logs;
  if (!logs || state.backend.capabilities.coordination?.logs !== true) throw new Error('the file backend declares no native logs');
  return logs;
};
const json = (records: { json: string }[]) => records.map((r) => JSON.parse(r.json) as unknown);

describe('native logs', () => {
  it('append gives strictly increasing seqs; read pages after a seq; lastSeq survives a trim of everything', async () => {
    const state = await openFile(tempDir());
    const logs = logsOf(state);
    expect(await logs.lastSeq('log/a')).toBe(0);
    expect(await logs.read('log/a', { after: 0, limit: 10 })).toEqual([]);
    const one = await logs.append('log/a', ['1', '2', '3']);
    expect(one.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await logs.append('log/a', ['4'])).map((r) => r.seq)).toEqual([4]);
    expect(json(await logs.read('log/a', { after: 1, limit: 2 }))).toEqual([2, 3]);
    expect((await logs.read('log/a', { after: 0, limit: 10 }))[0]).toMatchObject({ seq: 1, at: one[0]!.at });
    expect(await logs.trim('log/a', { before: 3 })).toBe(2);
    expect(json(await logs.read('log/a', { after: 0, limit: 10 }))).toEqual([3, 4]);
    expect(await logs.trim('log/a', { keepLast: 1 })).toBe(1);
    expect(await logs.trim('log/a', { olderThanMs: 0 })).toBe(1);
    expect(await logs.read('log/a', { after: 0, limit: 10 })).toEqual([]);
    expect(await logs.lastSeq('log/a')).toBe(4);
    expect((await logs.append('log/a', ['5'])).map((r) => r.seq)).toEqual([5]);
    await state.close();
  });

  it('remove drops single records (a mailbox ack); names lists logs with records under a prefix', async () => {
    const state = await openFile(tempDir());
    const logs = logsOf(state);
    await logs.append('mail/agent-1', ['"a"', '"b"', '"c"', '"d"']);
    expect(await logs.remove('mail/agent-1', [2, 1, 9, 2])).toBe(2);
    expect(json(await logs.read('mail/agent-1', { after: 0, limit: 10 }))).toEqual(['c', 'd']);
    expect(await logs.remove('mail/agent-1', [3])).toBe(1);
    expect(json(await logs.read('mail/agent-1', { after: 0, limit: 10 }))).toEqual(['d']);
    await logs.append('mail/agent-2', ['1']);
    await logs.append('mail/x.json', ['1']);
    await logs.append('ch/news', ['1']);
    expect(await logs.names('mail/')).toEqual(['mail/agent-1', 'mail/agent-2', 'mail/x.json']);
    expect(await logs.names('')).toEqual(['ch/news', 'mail/agent-1', 'mail/agent-2', 'mail/x.json']);
    await logs.remove('mail/agent-2', [1]);
    expect(await logs.names('mail/agent')).toEqual(['mail/agent-1']);
    await state.close();
  });

  it('retention on append keeps at most maxLen records and drops records older than maxAgeMs', async () => {
    const state = await openFile(tempDir());
    const logs = logsOf(state);
    for (let i = 1; i <= 20; i++) await logs.append('ch/len', [String(i)], { retention: { maxLen: 5 } });
    expect(json(await logs.read('ch/len', { after: 0, limit: 100 }))).toEqual([16, 17, 18, 19, 20]);
    await logs.append('ch/age', ['"old"']);
    await new Promise((r) => setTimeout(r, 60));
    await logs.append('ch/age', ['"new"'], { retention: { maxAgeMs: 30 } });
    expect(json(await logs.read('ch/age', { after: 0, limit: 10 }))).toEqual(['new']);
    await state.close();
  });

  it('a record file a crashed appender left past the head is never read, and its seq is reused: no gap, no duplicate', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const logs = logsOf(state);
    await logs.append('log/crash', ['"kept"']);
    // What an appender killed after writing its record but before its commit point leaves.
    writeFileSync(join(dir, 'ns/logs/log/crash/#log/0000000000000002'), `${Date.now()}\n"half`);
    expect(json(await logs.read('log/crash', { after: 0, limit: 10 }))).toEqual(['kept']);
    expect(await logs.lastSeq('log/crash')).toBe(1);
    expect((await logs.append('log/crash', ['"next"'])).map((r) => r.seq)).toEqual([2]);
    expect(json(await logs.read('log/crash', { after: 0, limit: 10 }))).toEqual(['kept', 'next']);
    await state.close();
  });

  it('a damaged record is a CorruptDataError naming its file', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const logs = logsOf(state);
    await logs.append('log/bad', ['1']);
    const file = join(dir, 'ns/logs/log/bad/#log/0000000000000001');
    writeFileSync(file, 'garbage');
    await expect(logs.read('log/bad', { after: 0, limit: 1 })).rejects.toSatisfy((e) => e instanceof CorruptDataError && e.message.includes(file));
    await state.close();
  });

  it('three processes appending to one log get unique, strictly increasing seqs with no gap', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const logs = logsOf(state);
    const script = (w: number) => `${openScript(dir)}
      const seqs = [];
      for (let i = 0; i < 150; i++) seqs.push(...(await backend.logs.append('log/shared', [JSON.stringify({ w: ${w}, i })])).map((r) => r.seq));
      process.stdout.write(JSON.stringify(seqs) + '\\n');
      await state.close();`;
    const results = await Promise.all([0, 1, 2].map((w) => runNode(script(w), 120_000)));
    const perWriter = results.map((r) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout.trim()) as number[];
    });
    for (const seqs of perWriter) for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    const all = perWriter.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    const read = await logs.read('log/shared', { after: 0, limit: 1_000 });
    expect(read.map((r) => r.seq)).toEqual(all);
    for (const w of [0, 1, 2]) {
      const mine = read.map((r) => JSON.parse(r.json) as { w: number; i: number }).filter((r) => r.w === w).map((r) => r.i);
      expect(mine).toEqual(Array.from({ length: 150 }, (_, i) => i));
    }
    await state.close();
  }, 180_000);

  it('a listener in another process is woken by an append', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    let wakes = 0;
    const stop = await state.backend.notify!.listen({ kind: 'log', name: 'ch/bell' }, () => wakes++);
    const r = await runNode(`${openScript(dir)}
      await backend.logs.append('ch/bell', ['"ding"']);
      await state.close();`);
    expect(r.stderr).toBe('');
    await until(() => wakes > 0, 'the wake of another process append');
    await stop();
    await state.close();
  });

  it('10,000 short-lived records (trimmed, removed or dropped by retention) leave as many files as before', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { durability: 'none' });
    const logs = logsOf(state);
    await logs.append('ch/short', ['0'], { retention: { maxLen: 10 } });
    await logs.trim('ch/short', { keepLast: 0 });
    await logs.append('mail/m', ['0']);
    await logs.remove('mail/m', [1]);
    const start = storageCountOf(dir);
    for (let i = 0; i < 5_000; i++) await logs.append('ch/short', [String(i)], { retention: { maxLen: 10 } });
    for (let i = 0; i < 5_000; i++) {
      const seq = (await logs.append('mail/m', [String(i)]))[0]!.seq;
      if (i % 2 === 1) expect(await logs.remove('mail/m', [seq - 1, seq])).toBe(2);
    }
    expect(storageCountOf(dir)).toBe(start + 10);
    expect(await logs.trim('ch/short', { keepLast: 0 })).toBe(10);
    expect(storageCountOf(dir)).toBe(start);
    expect(await logs.lastSeq('ch/short')).toBe(5_001);
    await state.close();
  }, 300_000);
});
