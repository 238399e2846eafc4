/**
 * The native log family (src/logs.ts) and the wakeups (src/notify.ts) against a real database
 * file: seqs across processes, reads, trims, retention that leaves nothing behind, names, and a
 * listener in another process woken by an enqueue and by an append.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteBackend } from '../src/index.js';
import { storageCounts } from '../src/storage.js';
import { NativeFixture, WORKER_DEADLINE_MS } from './native-helpers.js';

let f: NativeFixture;
let b: SqliteBackend;
beforeEach(async () => {
  f = new NativeFixture();
  b = await f.backend();
});
afterEach(async () => {
  await f.dispose();
});

const texts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => JSON.stringify({ i: from + i }));

/** Polls `check` (a read) until it holds, up to a deadline. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('native logs', () => {
  it('append hands out consecutive seqs, read pages after a seq, lastSeq survives trims', async () => {
    expect(await b.logs.lastSeq('log/a')).toBe(0);
    const first = await b.logs.append('log/a', texts(3));
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3]);
    const more = await b.logs.append('log/a', texts(2, 3));
    expect(more.map((r) => r.seq)).toEqual([4, 5]);
    expect(more[0]!.at).toBeGreaterThanOrEqual(first[2]!.at);
    const page = await b.logs.read('log/a', { after: 1, limit: 2 });
    expect(page.map((r) => [r.seq, JSON.parse(r.json)])).toEqual([[2, { i: 1 }], [3, { i: 2 }]]);
    expect(await b.logs.trim('log/a', { before: 4 })).toBe(3);
    expect((await b.logs.read('log/a', { after: 0, limit: 10 })).map((r) => r.seq)).toEqual([4, 5]);
    expect(await b.logs.trim('log/a', { keepLast: 0 })).toBe(2);
    expect(await b.logs.lastSeq('log/a')).toBe(5);
    expect((await b.logs.append('log/a', texts(1)))[0]!.seq).toBe(6);
  });

  it('trim keepLast counts records, olderThanMs drops by age; remove drops given seqs and says how many existed', async () => {
    await b.logs.append('mail/x', texts(10));
    expect(await b.logs.remove('mail/x', [2, 4, 4, 99])).toBe(2);
    expect(await b.logs.trim('mail/x', { keepLast: 5 })).toBe(3);
    expect((await b.logs.read('mail/x', { after: 0, limit: 100 })).map((r) => r.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(await b.logs.trim('mail/x', { olderThanMs: 60_000 })).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(await b.logs.trim('mail/x', { olderThanMs: 10 })).toBe(5);
    expect(await b.logs.read('mail/x', { after: 0, limit: 100 })).toEqual([]);
  });

  it('names(prefix) lists logs holding a record, in key order', async () => {
    await b.logs.append('ch/b', texts(1));
    await b.logs.append('ch/a', texts(1));
    await b.logs.append('mail/a', texts(1));
    expect(await b.logs.names('ch/')).toEqual(['ch/a', 'ch/b']);
    expect(await b.logs.names('')).toEqual(['ch/a', 'ch/b', 'mail/a']);
    await b.logs.trim('ch/a', { keepLast: 0 });
    expect(await b.logs.names('ch/')).toEqual(['ch/b']);
  });

  it('appends from 3 processes get strictly increasing, unique seqs with no gap', async () => {
    await b.logs.append('log/shared', texts(1));
    const workers = Array.from({ length: 3 }, () => f.spawn('append', { log: 'log/shared', count: 200 }));
    await Promise.all(workers.map((w) => w.waitFor('ready')));
    for (const w of workers) w.go();
    const results = await Promise.all(workers.map((w) => w.waitFor('appended')));
    for (const r of results) {
      const seqs = r.seqs as number[];
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    }
    const all = results.flatMap((r) => r.seqs as number[]).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 600 }, (_, i) => i + 2));
    const read: number[] = [];
    for (let after = 0; ; ) {
      const page = await b.logs.read('log/shared', { after, limit: 128 });
      if (page.length === 0) break;
      read.push(...page.map((r) => r.seq));
      after = page[page.length - 1]!.seq;
    }
    expect(read).toEqual(Array.from({ length: 601 }, (_, i) => i + 1));
    expect(await b.logs.lastSeq('log/shared')).toBe(601);
  });

  it('10,000 short-lived records with an age retention, then a sweep: rows and index members back where they were', async () => {
    await b.logs.append('ch/busy', texts(1), { retention: { maxAgeMs: 50 } });
    await new Promise((r) => setTimeout(r, 60));
    await b.logs.trim('ch/busy', { olderThanMs: 50 });
    const before = storageCounts(f.path, f.namespace);
    expect(before.logRecords).toBe(0);
    for (let i = 0; i < 10_000; i += 100) await b.logs.append('ch/busy', texts(100, i), { retention: { maxAgeMs: 50 } });
    // Trimmed on append as they age; the last ones go with the client's sweep (no further appends).
    await eventually(() => storageCounts(f.path, f.namespace).total === before.total, 'the sweep trims the last records');
    expect(storageCounts(f.path, f.namespace)).toEqual(before);
    expect(await b.logs.lastSeq('ch/busy')).toBe(10_001);
  });

  it('a length retention keeps the log within maxLen plus an eighth', async () => {
    for (let i = 0; i < 1_000; i += 10) await b.logs.append('ch/len', texts(10, i), { retention: { maxLen: 80 } });
    const n = storageCounts(f.path, f.namespace).logRecords;
    expect(n).toBeGreaterThanOrEqual(80);
    expect(n).toBeLessThanOrEqual(90);
    const newest = await b.logs.read('ch/len', { after: 1_000 - 80, limit: 100 });
    expect(newest).toHaveLength(80);
  });
});

describe('native notify', () => {
  it('a listener in another process is woken by an enqueue (through the WAL watch: its fallback re-check is off)', async () => {
    const w = f.spawn('listen', { topic: { kind: 'queue', name: 'jobs' }, noFallback: true });
    await w.waitFor('ready');
    await b.queues.enqueue('jobs', { json: '1', priority: 0 });
    await w.waitFor('woke');
    expect(await w.exited).toBe(0);
  });

  it('a listener in another process is woken by an append (through the WAL watch)', async () => {
    const w = f.spawn('listen', { topic: { kind: 'log', name: 'ch/news' }, noFallback: true });
    await w.waitFor('ready');
    await b.logs.append('ch/news', texts(1));
    await w.waitFor('woke');
    expect(await w.exited).toBe(0);
  });

  it("a waiter in another process reads nothing for commits that are not its topic's (no herd: 200 unrelated commits, one enqueue)", async () => {
    // The listener's process counts every topic counter it reads. Woken by the WAL file, it read
    // its counter once per (coalesced) commit of anyone; with the topic's bell only for its own.
    const w = f.spawn('listen', { topic: { kind: 'queue', name: 'mine' }, noFallback: true });
    await w.waitFor('ready');
    for (let i = 0; i < 100; i++) {
      await b.increment(`unrelated/${i % 7}`, 1);
      await b.queues.enqueue('other', { json: String(i), priority: 0 });
    }
    await b.queues.enqueue('mine', { json: '1', priority: 0 });
    const woke = await w.waitFor('woke');
    expect(await w.exited).toBe(0);
    // One read when it started listening, one for the wake (a spare for an early watch event).
    expect(woke['counterReads']).toBeLessThanOrEqual(3);
  });

  it('in one process: enqueue, nack and append wake listeners of another client at once; other topics stay asleep', async () => {
    const other = await f.backend();
    const wakes = { queue: 0, log: 0, unrelated: 0 };
    const stops = [
      await other.notify.listen({ kind: 'queue', name: 'jobs' }, () => wakes.queue++),
      await other.notify.listen({ kind: 'log', name: 'ch/x' }, () => wakes.log++),
      await other.notify.listen({ kind: 'queue', name: 'unrelated' }, () => wakes.unrelated++),
    ];
    await b.queues.enqueue('jobs', { json: '1', priority: 0 });
    expect(wakes.queue).toBeGreaterThan(0);
    const job = (await b.queues.claim('jobs', { leaseMs: 60_000, owner: 't' }))!;
    const beforeNack = wakes.queue;
    await b.queues.settle('jobs', job.id, job.leaseId, { kind: 'nack', delayMs: 0 });
    expect(wakes.queue).toBeGreaterThan(beforeNack);
    await b.logs.append('ch/x', texts(1));
    expect(wakes.log).toBeGreaterThan(0);
    // Let the WAL watch and a fallback round pass: the unrelated queue's counter never moved.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(wakes.unrelated).toBe(0);
    for (const stop of stops) await stop();
  });

  it('a delayed job coming due wakes its queue listeners (no enqueue needed)', async () => {
    // The claim and the listen must both come before the job is due: 2 s of room, not 500 ms.
    const before = Date.now();
    await b.queues.enqueue('later', { json: '1', priority: 0, delayMs: 2_000 });
    expect(await b.queues.claim('later', { leaseMs: 1000, owner: 't' })).toBeNull();
    let wakes = 0;
    const stop = await b.notify.listen({ kind: 'queue', name: 'later' }, () => wakes++);
    // Nothing is enqueued from here on: only the job coming due can wake us. A spurious wake
    // (allowed) finds nothing to claim, and the wait goes on.
    let claimed = null;
    await eventually(async () => {
      if (wakes === 0) return false;
      wakes = 0;
      claimed = await b.queues.claim('later', { leaseMs: 60_000, owner: 't' });
      return claimed !== null;
    }, 'a wakeup after which the job can be claimed', WORKER_DEADLINE_MS);
    expect(Date.now()).toBeGreaterThanOrEqual(before + 2_000);
    await stop();
  });

  it('a due job nobody claims is announced once, not again every millisecond until claimed', async () => {
    await b.queues.enqueue('due', { json: '1', priority: 0, delayMs: 300 });
    let wakes = 0;
    const stop = await b.notify.listen({ kind: 'queue', name: 'due' }, () => wakes++);
    await eventually(() => wakes > 0, 'the due timer fires', WORKER_DEADLINE_MS);
    // Its timer fired; the job stays due (nobody claims it). A listener that re-armed for it
    // woke about once a millisecond; the fallback re-check (1 s) wakes only on a change.
    await new Promise((r) => setTimeout(r, 500));
    expect(wakes).toBeLessThanOrEqual(3);
    await stop();
  });
});
