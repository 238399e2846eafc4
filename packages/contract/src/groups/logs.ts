import assert from 'node:assert/strict';
import type { JsonValue } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * Second wave: append-only logs (`state.log(name)`): seq strictly increasing per log across
 * processes, read after/limit oldest first, follow yields new records as they land, trim by
 * seq, count or age, and `lastSeq` survives a trim (seqs are never reused).
 */
export function logsGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('logs', () => {
    fixtureTest(t, target, 'append returns strictly increasing seqs; read gives records oldest first with after and limit', async (f) => {
      const log = (await f.open()).log<{ i: number }>('pipeline');
      assert.equal(await log.lastSeq(), 0);
      const appended: { seq: number; at: number }[] = [];
      for (let i = 0; i < 10; i++) appended.push(await log.append({ i }));
      for (let i = 1; i < appended.length; i++) assert.ok(appended[i]!.seq > appended[i - 1]!.seq, 'seqs strictly increase');
      for (const a of appended) assert.ok(Number.isFinite(a.at) && a.at > 0);
      const all = await collect(log.read());
      assert.deepEqual(all.map((r) => r.record.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(all.map((r) => r.seq), appended.map((a) => a.seq));
      const page = await collect(log.read({ after: appended[3]!.seq, limit: 3 }));
      assert.deepEqual(page.map((r) => r.record.i), [4, 5, 6]);
      assert.equal(await log.lastSeq(), appended[9]!.seq);
      // Another client sees the same log; another name is another log.
      const other = await f.open();
      assert.equal((await collect(other.log('pipeline').read())).length, 10);
      assert.deepEqual(await collect(other.log('health').read()), []);
    });

    fixtureTest(t, target, 'trim keepLast, before and olderThanMs drop old records; lastSeq stays and seqs are never reused', async (f) => {
      const log = (await f.open()).log('trimmed');
      const seqs: number[] = [];
      for (let i = 0; i < 12; i++) seqs.push((await log.append(i)).seq);
      assert.equal(await log.trim({ keepLast: 8 }), 4);
      assert.deepEqual((await collect(log.read())).map((r) => r.record), [4, 5, 6, 7, 8, 9, 10, 11]);
      assert.equal(await log.trim({ before: seqs[6]! }), 2);
      assert.deepEqual((await collect(log.read())).map((r) => r.record), [6, 7, 8, 9, 10, 11]);
      assert.equal(await log.trim({ olderThanMs: 60_000 }), 0, 'nothing is a minute old');
      assert.equal(await log.lastSeq(), seqs[11]);
      assert.equal(await log.trim({ keepLast: 0 }), 6);
      assert.equal(await log.lastSeq(), seqs[11], 'lastSeq survives a trim');
      const next = await log.append('after trim');
      assert.ok(next.seq > seqs[11]!, 'a seq is never reused after a trim');
      await assert.rejects(log.trim({} as never), /trim/);
      await assert.rejects(log.trim({ before: 1, keepLast: 1 } as never), /exactly one/);
      await assert.rejects(log.trim({ keepLast: -1 }), /trim\.keepLast/);
      await assert.rejects(log.append((() => 1) as never), /record/);
      await assert.rejects(log.read({ limit: 0 }).next(), /options\.limit/);
    });

    fixtureTest(t, target, 'follow yields records appended by another client as they land, and ends on abort', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const start = (await a.log('followed').append('old')).seq;
      const controller = new AbortController();
      const got: JsonValue[] = [];
      const following = (async () => {
        for await (const r of a.log('followed').follow({ after: start, signal: controller.signal })) {
          got.push(r.record);
          if (got.length === 3) controller.abort();
        }
      })();
      for (const r of ['x', 'y', 'z']) await b.log('followed').append(r);
      await following;
      assert.deepEqual(got, ['x', 'y', 'z'], 'only records after follow started, in order');
    });

    processTest(t, target, 'three processes appending to one log get unique, strictly increasing seqs and lose nothing', async (f) => {
      const n = Math.max(10, Math.round(40 * scale));
      const results = await Promise.all(['w1', 'w2', 'w3'].map((writer) => f.run('appendLog', { log: 'shared', writer, n })));
      const all: number[] = [];
      for (const messages of results) {
        const seqs = messages.find((m) => m.type === 'done')?.seqs as number[];
        assert.equal(seqs.length, n);
        for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, 'seqs increase within a process');
        all.push(...seqs);
      }
      assert.equal(new Set(all).size, 3 * n, 'no seq was given twice');
      const records = await collect((await f.open()).log<{ writer: string; i: number }>('shared').read());
      assert.deepEqual(records.map((r) => r.seq), [...all].sort((x, y) => x - y), 'readers see every record in seq order');
      for (const writer of ['w1', 'w2', 'w3']) {
        assert.deepEqual(records.filter((r) => r.record.writer === writer).map((r) => r.record.i), Array.from({ length: n }, (_, i) => i));
      }
    });

    processTest(t, target, 'follow sees the records another process appends', async (f) => {
      const state = await f.open();
      const controller = new AbortController();
      const n = 5;
      const got: { writer: string; i: number }[] = [];
      const following = (async () => {
        for await (const r of state.log<{ writer: string; i: number }>('proc-follow').follow({ after: 0, signal: controller.signal })) {
          got.push(r.record);
          if (got.length === n) controller.abort();
        }
      })();
      await f.run('appendLog', { log: 'proc-follow', writer: 'other', n });
      const timer = setTimeout(() => controller.abort(), 20_000);
      await following;
      clearTimeout(timer);
      assert.deepEqual(got.map((r) => r.i), [0, 1, 2, 3, 4]);
    });
  });
}
