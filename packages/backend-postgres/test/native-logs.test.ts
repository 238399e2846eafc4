import { afterAll, describe, expect, it } from 'vitest';
import { NativeFixture, until } from './native-helpers.js';
import { dropRunSchema, requireServer, sql, RUN_SCHEMA } from './pg-helpers.js';

const up = await requireServer();

describe.skipIf(!up)('native logs', () => {
  afterAll(() => dropRunSchema());

  it('three processes append to one log: unique seqs 1..N, and a reader polling meanwhile never sees a gap', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      const count = 150;
      const workers = Array.from({ length: 3 }, () => f.spawn('append', { log: 'log/x', count }));
      await Promise.all(workers.map((w) => w.waitFor('ready')));
      for (const w of workers) w.go();
      let after = 0;
      let done = false;
      const results = Promise.all(workers.map((w) => w.waitFor('result'))).finally(() => (done = true));
      // Every page read while appends commit must continue exactly at after + 1.
      while (!done || after < 3 * count) {
        const page = await b.logs.read('log/x', { after, limit: 1000 });
        for (const record of page) {
          expect(record.seq).toBe(after + 1);
          after = record.seq;
        }
        if (done && page.length === 0) break;
      }
      const seqs = (await results).flatMap((r) => r.seqs as number[]).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 3 * count }, (_, i) => i + 1));
      expect(after).toBe(3 * count);
      expect(await b.logs.lastSeq('log/x')).toBe(3 * count);
    } finally {
      await f.dispose();
    }
  }, 120_000);

  it('a rolled-back append leaves no gap: the counter row rolls back with the records', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      await b.logs.append('log/r', ['1']);
      // An append that fails inside its statement (a text the column refuses: NUL) commits nothing.
      await expect(b.logs.append('log/r', ['2', 'bad\u0000'])).rejects.toThrow();
      const appended = await b.logs.append('log/r', ['3']);
      expect(appended.map((r) => r.seq)).toEqual([2]);
      expect((await b.logs.read('log/r', { after: 0, limit: 10 })).map((r) => r.seq)).toEqual([1, 2]);
    } finally {
      await f.dispose();
    }
  });

  it('an appender killed with SIGKILL mid-run leaves no gap: the next append continues right after the last committed seq', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      const worker = f.spawn('append', { log: 'log/k', count: 100_000 });
      await worker.waitFor('ready');
      worker.go();
      await until(async () => (await b.logs.lastSeq('log/k')) >= 50, 'fifty appends');
      worker.child.kill('SIGKILL');
      await worker.exited;
      const [next] = await b.logs.append('log/k', ['"after"']);
      const seqs: number[] = [];
      for (let after = 0; ; ) {
        const page = await b.logs.read('log/k', { after, limit: 1000 });
        if (page.length === 0) break;
        seqs.push(...page.map((r) => r.seq));
        after = page[page.length - 1]!.seq;
      }
      expect(seqs).toEqual(Array.from({ length: next!.seq }, (_, i) => i + 1));
    } finally {
      await f.dispose();
    }
  }, 120_000);

  it('trims by before, keepLast and age; remove drops given seqs; lastSeq survives trims; names by prefix', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      await b.logs.append('log/t', ['1', '2', '3', '4', '5']);
      await b.logs.append('mail/a', ['x']);
      expect(await b.logs.trim('log/t', { before: 3 })).toBe(2);
      expect(await b.logs.remove('log/t', [4, 99])).toBe(1);
      expect(await b.logs.trim('log/t', { keepLast: 1 })).toBe(1);
      expect((await b.logs.read('log/t', { after: 0, limit: 10 })).map((r) => r.seq)).toEqual([5]);
      expect(await b.logs.lastSeq('log/t')).toBe(5);
      expect(await b.logs.names('log/')).toEqual(['log/t']);
      expect(await b.logs.names('')).toEqual(['log/t', 'mail/a']);
      await sql(`UPDATE "${RUN_SCHEMA}".log_records SET at = at - 10000 WHERE namespace = $1 AND log = 'log/t'`, [f.namespace]);
      expect(await b.logs.trim('log/t', { olderThanMs: 5000 })).toBe(1);
      expect(await b.logs.lastSeq('log/t')).toBe(5);
      expect(await b.logs.lastSeq('log/none')).toBe(0);
    } finally {
      await f.dispose();
    }
  });
});
