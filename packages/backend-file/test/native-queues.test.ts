import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeQueues, StateClient } from '@agent-state/core';
import { openFile, openScript, removeTempDirs, runNode, tempDir, until } from './helpers.js';
import { storageCountOf } from './storage-count.js';
// The module instance openState() loads (dist).
import { BOOT_ID } from '../dist/mutex.js';

afterEach(removeTempDirs);

const queuesOf = (state: StateClient): NativeQueues => {
  const queues = state.backend.queues;
  if (!queues || state.backend.capabilities.coordination?.queues !== true) throw new Error('the file backend declares no native queues');
  return queues;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const claimOpts = { leaseMs: 60_000, owner: 'test' };

describe('native queues', () => {
  it('sequences are reserved in synced blocks: a counter of an earlier boot continues above its reservation, one of this boot where it stands', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const q = queuesOf(state);
    const seqFile = join(dir, 'ns/queues/jobs/#q/seq');
    const stored = (): unknown => JSON.parse(readFileSync(seqFile, 'utf8'));
    expect((await q.enqueue('jobs', { json: '1', priority: 0 })).sequence).toBe(1);
    expect(stored()).toEqual({ seq: 1, reserved: 1_000, boot: BOOT_ID });
    expect((await q.enqueue('jobs', { json: '2', priority: 0 })).sequence).toBe(2);
    expect(stored()).toEqual({ seq: 2, reserved: 1_000, boot: BOOT_ID });
    // Last written before a reboot (a power loss may have lost sequences up to `reserved`).
    writeFileSync(seqFile, JSON.stringify({ seq: 5, reserved: 1_005, boot: '00000000-0000-0000-0000-000000000000' }));
    expect((await q.enqueue('jobs', { json: '3', priority: 0 })).sequence).toBe(1_006);
    expect(stored()).toEqual({ seq: 1_006, reserved: 2_005, boot: BOOT_ID });
    // A record of the first format (no reservation, no boot): above its last sequence.
    writeFileSync(seqFile, JSON.stringify({ seq: 2_010 }));
    expect((await q.enqueue('jobs', { json: '4', priority: 0 })).sequence).toBe(2_011);
    expect(stored()).toEqual({ seq: 2_011, reserved: 3_010, boot: BOOT_ID });
    await state.close();
  });

  it('serves the highest priority first, then the lowest sequence', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    const ids: Record<string, string> = {};
    for (const [name, priority] of [['a', 0], ['b', 10], ['c', 0], ['d', -5], ['e', 10]] as const) {
      ids[name] = (await q.enqueue('jobs', { json: JSON.stringify(name), priority })).id;
    }
    const order: string[] = [];
    for (let job = await q.claim('jobs', claimOpts); job; job = await q.claim('jobs', claimOpts)) order.push(JSON.parse(job.json));
    expect(order).toEqual(['b', 'e', 'a', 'c', 'd']);
    await state.close();
  });

  it('a lease that ends brings the job back with attempts counted; the old claim can no longer settle it', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    const { id, sequence } = await q.enqueue('jobs', { json: '"x"', priority: 0 });
    const first = await q.claim('jobs', { leaseMs: 50, owner: 'a' });
    expect(first).toMatchObject({ id, sequence, attempts: 1, json: '"x"' });
    expect(await q.claim('jobs', { leaseMs: 50, owner: 'b' })).toBeNull();
    await until(() => Date.now() > first!.leaseUntil, 'the lease end');
    const second = await q.claim('jobs', claimOpts);
    expect(second).toMatchObject({ id, attempts: 2 });
    expect(second!.leaseId).not.toBe(first!.leaseId);
    expect(await q.settle('jobs', id, first!.leaseId, { kind: 'ack' })).toBe(false);
    expect(await q.settle('jobs', id, first!.leaseId, { kind: 'nack', delayMs: 0 })).toBe(false);
    expect(await q.settle('jobs', id, second!.leaseId, { kind: 'ack' })).toBe(true);
    expect(await q.settle('jobs', id, second!.leaseId, { kind: 'ack' })).toBe(false);
    expect(await q.settle('jobs', id, 'not-a-lease', { kind: 'ack' })).toBe(false);
    expect(await q.counts('jobs')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    await state.close();
  });

  it('extend keeps a claim past its first lease end, and the same lease id still settles it', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    const { id } = await q.enqueue('jobs', { json: '1', priority: 0 });
    const job = await q.claim('jobs', { leaseMs: 50, owner: 'a' });
    expect(await q.settle('jobs', id, job!.leaseId, { kind: 'extend', leaseMs: 60_000 })).toBe(true);
    expect(await q.settle('jobs', id, job!.leaseId, { kind: 'extend', leaseMs: 120_000 })).toBe(true);
    await until(() => Date.now() > job!.leaseUntil + 200, 'the first lease end');
    expect(await q.claim('jobs', claimOpts)).toBeNull();
    expect((await q.counts('jobs')).inFlight).toBe(1);
    expect(await q.settle('jobs', id, job!.leaseId, { kind: 'ack' })).toBe(true);
    expect(await q.counts('jobs')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    await state.close();
  });

  it('nack with a delay and a delayed enqueue keep a job invisible until then', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    await q.enqueue('jobs', { json: '"later"', priority: 0, delayMs: 150 });
    expect(await q.claim('jobs', claimOpts)).toBeNull();
    expect(await q.counts('jobs')).toMatchObject({ waiting: 0, delayed: 1 });
    await sleep(400);
    const job = await q.claim('jobs', claimOpts);
    expect(job?.json).toBe('"later"');
    expect(await q.settle('jobs', job!.id, job!.leaseId, { kind: 'nack', delayMs: 150 })).toBe(true);
    expect(await q.claim('jobs', claimOpts)).toBeNull();
    await sleep(400);
    expect((await q.claim('jobs', claimOpts))?.attempts).toBe(2);
    await state.close();
  });

  it('maxAttempts moves a job to the dead letters during a claim; reviveDead retries or deletes it', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    const { id } = await q.enqueue('jobs', { json: '"poison"', priority: 3 });
    const once = await q.claim('jobs', { ...claimOpts, maxAttempts: 1 });
    await q.settle('jobs', id, once!.leaseId, { kind: 'nack', delayMs: 0 });
    expect(await q.claim('jobs', { ...claimOpts, maxAttempts: 1 })).toBeNull();
    expect(await q.counts('jobs')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 1 });
    expect(await q.jobs('jobs', { state: 'dead', limit: 10 })).toMatchObject([{ id, json: '"poison"', priority: 3, attempts: 1, state: 'dead' }]);
    expect(await q.reviveDead('jobs', id, 'retry')).toBe(true);
    expect(await q.reviveDead('jobs', id, 'retry')).toBe(false);
    const again = await q.claim('jobs', { ...claimOpts, maxAttempts: 1 });
    expect(again).toMatchObject({ id, attempts: 1 });
    await q.settle('jobs', id, again!.leaseId, { kind: 'nack', delayMs: 0 });
    expect(await q.claim('jobs', { ...claimOpts, maxAttempts: 1 })).toBeNull();
    expect(await q.reviveDead('jobs', id, 'delete')).toBe(true);
    expect(await q.counts('jobs')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    await state.close();
  });

  it('counts every state, jobs() pages by sequence, names() lists queues that hold jobs in key order', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    for (let i = 0; i < 5; i++) await q.enqueue('work', { json: String(i), priority: 0 });
    await q.enqueue('work', { json: '"delayed"', priority: 0, delayMs: 60_000 });
    const claimed = await q.claim('work', claimOpts);
    expect(await q.counts('work')).toEqual({ waiting: 4, inFlight: 1, delayed: 1, dead: 0 });
    const page1 = await q.jobs('work', { limit: 2 });
    expect(page1.map((j) => j.sequence)).toEqual([1, 2]);
    expect(page1[0]).toMatchObject({ state: 'in-flight', attempts: 1 });
    expect(page1[0]!.visibleAt).toBe(claimed!.leaseUntil);
    const page2 = await q.jobs('work', { afterSequence: 2, limit: 10 });
    expect(page2.map((j) => [j.sequence, j.state])).toEqual([[3, 'waiting'], [4, 'waiting'], [5, 'waiting'], [6, 'delayed']]);
    expect((await q.jobs('work', { state: 'delayed', limit: 10 })).map((j) => j.json)).toEqual(['"delayed"']);
    for (const name of ['x.json', 'a/b', 'a']) await q.enqueue(name, { json: '0', priority: 0 });
    expect(await q.names()).toEqual(['a', 'a/b', 'work', 'x.json']);
    const only = await q.claim('a/b', claimOpts);
    await q.settle('a/b', only!.id, only!.leaseId, { kind: 'ack' });
    expect(await q.names()).toEqual(['a', 'work', 'x.json']);
    await state.close();
  });

  it('16 OS processes racing to claim one job: exactly one wins', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const q = queuesOf(state);
    await q.enqueue('race', { json: '"prize"', priority: 0 });
    const go = join(dir, 'go');
    const script = `${openScript(dir)}
      (await import('node:fs')).writeFileSync(${JSON.stringify(dir)} + '/ready-' + process.pid, '');
      await waitFile(${JSON.stringify(go)});
      const job = await backend.queues.claim('race', { leaseMs: 60000, owner: String(process.pid) });
      process.stdout.write(JSON.stringify({ won: job !== null, id: job?.id ?? null }) + '\\n');
      await state.close();`;
    const runs = Array.from({ length: 16 }, () => runNode(script, 60_000));
    await until(() => readdirSync(dir).filter((n) => n.startsWith('ready-')).length === 16, 'all 16 processes at the barrier');
    writeFileSync(go, '');
    const results = await Promise.all(runs);
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const outcomes = results.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as { won: boolean; id: string | null });
    expect(outcomes.filter((o) => o.won)).toHaveLength(1);
    expect(await q.counts('race')).toEqual({ waiting: 0, inFlight: 1, delayed: 0, dead: 0 });
    await state.close();
  });

  it('a listener in another process is woken by an enqueue', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const q = queuesOf(state);
    const notify = state.backend.notify!;
    let wakes = 0;
    const stop = await notify.listen({ kind: 'queue', name: 'bell' }, () => wakes++);
    await q.enqueue('bell', { json: '0', priority: 0 }); // the queue exists: its seq file is there to watch
    await until(() => wakes > 0, 'the wake of our own enqueue');
    wakes = 0;
    const r = await runNode(`${openScript(dir)}
      await backend.queues.enqueue('bell', { json: '1', priority: 0 });
      await state.close();`);
    expect(r.stderr).toBe('');
    await until(() => wakes > 0, 'the wake of another process enqueue');
    await stop();
    await state.close();
  });

  it("another process's enqueue wakes a listener only once a claim can see the job (no wait left to the fallback re-check)", async () => {
    // A wake that comes before the job is in ready/ (the sequence counter's write used to be the
    // only one) finds nothing, and a blocking dequeue then sleeps until core's once-a-second
    // re-check. Here every wake claims at once and nothing else ever claims: the enqueuer waits
    // for each job to be taken before the next, so one early wake leaves a job behind and fails.
    const dir = tempDir();
    const state = await openFile(dir);
    const q = queuesOf(state);
    await q.enqueue('wake', { json: '0', priority: 0 }); // the queue exists: its seq file is there to watch
    const first = await q.claim('wake', claimOpts);
    await q.settle('wake', first!.id, first!.leaseId, { kind: 'ack' });
    let claimed = 0;
    let wakes = 0;
    const errors: unknown[] = [];
    let running = false;
    let again = false;
    const claimAll = async (): Promise<void> => {
      if (running) return void (again = true);
      running = true;
      try {
        do {
          again = false;
          for (let job = await q.claim('wake', claimOpts); job; job = await q.claim('wake', claimOpts)) {
            await q.settle('wake', job.id, job.leaseId, { kind: 'ack' });
            claimed++;
          }
        } while (again);
      } catch (error) {
        errors.push(error);
      } finally {
        running = false;
      }
    };
    const stop = await state.backend.notify!.listen({ kind: 'queue', name: 'wake' }, () => {
      wakes++;
      void claimAll();
    });
    const jobs = 100;
    const r = await runNode(`${openScript(dir)}
      for (let i = 1; i <= ${jobs}; i++) {
        await backend.queues.enqueue('wake', { json: String(i), priority: 0 });
        // Without a wake after the move nothing ever claims it; 20 s is room for a loaded machine.
        const deadline = Date.now() + 20_000;
        for (;;) {
          const c = await backend.queues.counts('wake');
          if (c.waiting === 0 && c.inFlight === 0) break;
          if (Date.now() > deadline) throw new Error('job ' + i + ' was never claimed: no wake came after it was visible');
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      await state.close();`, 300_000);
    expect(errors).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(claimed).toBe(jobs);
    expect(wakes).toBeGreaterThanOrEqual(jobs);
    await stop();
    await state.close();
  }, 300_000);

  it('a listener that comes before the queue exists is woken by another process enqueueing its first job', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    let wakes = 0;
    const stop = await state.backend.notify!.listen({ kind: 'queue', name: 'later' }, () => wakes++);
    const r = await runNode(`${openScript(dir)}
      await backend.queues.enqueue('later', { json: '1', priority: 0 });
      await state.close();`);
    expect(r.stderr).toBe('');
    await until(() => wakes > 0, 'the wake of the first enqueue of a queue nobody had created');
    await stop();
    await state.close();
  });

  it('a log listener that comes before the log exists is woken by another process appending its first record', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    let wakes = 0;
    const stop = await state.backend.notify!.listen({ kind: 'log', name: 'log/later' }, () => wakes++);
    const r = await runNode(`${openScript(dir)}
      await backend.logs.append('log/later', ['1']);
      await state.close();`);
    expect(r.stderr).toBe('');
    await until(() => wakes > 0, 'the wake of the first append of a log nobody had created');
    await stop();
    await state.close();
  });

  it('10,000 short-lived jobs (enqueue, claim, ack) leave the store with as many files as before', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { durability: 'none' });
    const q = queuesOf(state);
    const cycle = async (): Promise<void> => {
      await q.enqueue('short', { json: '"j"', priority: 0 });
      const job = await q.claim('short', { leaseMs: 100, owner: 't' });
      expect(await q.settle('short', job!.id, job!.leaseId, { kind: 'ack' })).toBe(true);
    };
    await cycle();
    await sleep(300);
    expect(await q.claim('short', claimOpts)).toBeNull(); // passes (and removes) emptied buckets
    const start = storageCountOf(dir);
    for (let i = 0; i < 10_000; i++) await cycle();
    await sleep(300);
    expect(await q.claim('short', claimOpts)).toBeNull();
    expect(storageCountOf(dir)).toBe(start);
    expect(await q.counts('short')).toEqual({ waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    await state.close();
  }, 300_000);
});

describe('native notify timers', () => {
  it('a listener of a queue is woken when a delayed job comes due, without a file change', async () => {
    const state = await openFile(tempDir());
    const q = queuesOf(state);
    await q.enqueue('timed', { json: '1', priority: 0, delayMs: 300 });
    let wakes = 0;
    const stop = await state.backend.notify!.listen({ kind: 'queue', name: 'timed' }, () => wakes++);
    await until(() => wakes > 0, 'the due-time wake');
    expect((await q.claim('timed', claimOpts))?.json).toBe('1');
    await stop();
    await state.close();
  });
});
