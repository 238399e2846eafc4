import assert from 'node:assert/strict';
import { sleep } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 9: priority then sequence, leases, at-least-once, nothing lost. */
export function queuesGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('queues', () => {
    fixtureTest(t, target, 'jobs are served by priority, then in enqueue order', async (f) => {
      const q = (await f.open()).queue('jobs');
      await q.enqueue('low', { priority: 'low' });
      await q.enqueue('normal-1');
      await q.enqueue('high-1', { priority: 'high' });
      await q.enqueue('five', { priority: 5 });
      await q.enqueue('high-2', { priority: 'high' });
      await q.enqueue('normal-2', { priority: 'normal' });
      await q.enqueue('minus-20', { priority: -20 });
      assert.equal(await q.size(), 7);
      const order: unknown[] = [];
      for (let job = await q.dequeue(); job; job = await q.dequeue()) {
        order.push(job.payload);
        await job.ack();
      }
      assert.deepEqual(order, ['high-1', 'high-2', 'five', 'normal-1', 'normal-2', 'low', 'minus-20']);
      assert.equal(await q.size(), 0);
    });

    fixtureTest(t, target, 'enqueue returns an id and an increasing sequence; dequeue reports them', async (f) => {
      const q = (await f.open()).queue('ids');
      const a = await q.enqueue({ n: 1 });
      const b = await q.enqueue({ n: 2 });
      assert.ok(b.sequence > a.sequence);
      const job = await q.dequeue();
      assert.equal(job?.id, a.id);
      assert.equal(job?.sequence, a.sequence);
      assert.equal(job?.priority, 0);
      assert.equal(job?.attempts, 1);
      assert.deepEqual(job?.payload, { n: 1 });
    });

    fixtureTest(t, target, 'a claimed job is invisible to other consumers until its lease ends, then comes back with attempts counted', async (f) => {
      const a = (await f.open()).queue('lease');
      const b = (await f.open()).queue('lease');
      await a.enqueue('work');
      // The lease must outlast the check that it hides the job: 3 s on a loaded machine.
      const leaseMs = 3_000;
      const claimedAt = Date.now();
      const first = await a.dequeue({ leaseMs });
      assert.equal(first?.payload, 'work');
      assert.equal(await b.dequeue(), null, 'invisible while leased');
      await sleep(Math.max(0, claimedAt + leaseMs - Date.now()) + 200);
      const again = await b.dequeue({ leaseMs: 10_000 });
      assert.equal(again?.id, first?.id);
      assert.equal(again?.attempts, 2);
      assert.equal(await first!.ack(), false, 'the expired claim cannot ack the new one');
      assert.equal(await a.size(), 1);
      assert.equal(await again!.ack(), true);
      assert.equal(await again!.ack(), false, 'ack twice is harmless');
      assert.equal(await a.size(), 0);
    });

    fixtureTest(t, target, 'nack returns a job at once or after delayMs; delayMs on enqueue hides a job until then', async (f) => {
      const q = (await f.open()).queue('nack');
      await q.enqueue('retry-me');
      const job = await q.dequeue();
      assert.equal(await job!.nack(), true);
      const back = await q.dequeue();
      assert.equal(back?.id, job?.id);
      // Both delays must outlast the checks that hide the jobs: 3 s on a loaded machine.
      const delayMs = 3_000;
      await back!.nack({ delayMs });
      assert.equal(await q.dequeue(), null);
      const enqueuedAt = Date.now();
      await q.enqueue('later', { delayMs });
      assert.equal(await q.dequeue(), null);
      await sleep(Math.max(0, enqueuedAt + delayMs - Date.now()) + 200);
      const got = [await q.dequeue(), await q.dequeue()].map((j) => j?.payload);
      assert.deepEqual(got.sort(), ['later', 'retry-me']);
    });

    fixtureTest(t, target, 'a job claimed maxAttempts times without ack goes to the dead letters', async (f) => {
      const q = (await f.open()).queue('dlq', { maxAttempts: 2 });
      await q.enqueue('poison');
      for (let i = 0; i < 2; i++) {
        const job = await q.dequeue();
        assert.equal(job?.payload, 'poison');
        await job!.nack();
      }
      assert.equal(await q.dequeue(), null);
      const dead = await q.deadLetters();
      assert.equal(dead.length, 1);
      assert.equal(dead[0]?.payload, 'poison');
      assert.equal(dead[0]?.attempts, 2);
      assert.equal(await q.size(), 0);
    });

    fixtureTest(t, target, 'bad queue input is rejected before any I/O', async (f) => {
      const state = await f.open();
      assert.throws(() => state.queue('a/b'), { code: 'INVALID_KEY' });
      const q = state.queue('ok');
      await assert.rejects(q.enqueue(1, { priority: 'urgent' as never }), /options\.priority/);
      await assert.rejects(q.enqueue((() => 1) as never), /payload/);
      await assert.rejects(q.dequeue({ leaseMs: 0 }), /options\.leaseMs/);
      assert.equal(await q.size(), 0);
    });

    fixtureTest(t, target, 'a stateless consumer settles by id and leaseId: ack, nack and extend; a stale leaseId is refused', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const qa = a.queue('stateless');
      const qb = b.queue('stateless');
      await qa.enqueue('one');
      // The extend must land inside the first lease: 2 s of it on a loaded machine.
      const claimedAt = Date.now();
      const job = await qa.dequeue({ leaseMs: 2_000 });
      assert.ok(job && typeof job.leaseId === 'string' && job.leaseId.length > 0);
      assert.equal(await qb.extend(job.id, job.leaseId, 10_000), true, 'extend by id from another client');
      await sleep(Math.max(0, claimedAt + 2_000 - Date.now()) + 200);
      assert.equal(await qb.dequeue(), null, 'extended past its first lease');
      assert.equal(await qb.ack(job.id, 'not-the-lease'), false, 'a wrong leaseId settles nothing');
      assert.equal(await qb.nack(job.id, job.leaseId), true);
      const back = await qb.dequeue({ leaseMs: 10_000 });
      assert.equal(back?.id, job.id);
      assert.equal(back?.attempts, 2);
      assert.equal(await qa.ack(job.id, job.leaseId), false, 'the old claim cannot ack the new one');
      assert.equal(await job.extend(1_000), false);
      assert.equal(await qa.ack(back!.id, back!.leaseId), true);
      assert.equal(await qa.ack(back!.id, back!.leaseId), false, 'ack twice is harmless');
      await assert.rejects(qa.ack('', 'x'), /id/);
      await assert.rejects(qa.nack('x', 7 as never), /leaseId/);
      await assert.rejects(qa.extend('x', 'y', 0), /leaseMs/);
    });

    fixtureTest(t, target, 'counts report waiting, in flight, delayed and dead jobs', async (f) => {
      const q = (await f.open()).queue('counted', { maxAttempts: 1 });
      assert.deepEqual(await q.counts(), { waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
      await q.enqueue('w1');
      await q.enqueue('w2');
      await q.enqueue('later', { delayMs: 60_000 });
      await q.enqueue('poison', { priority: 'high' });
      const poison = await q.dequeue();
      assert.equal(poison?.payload, 'poison');
      await poison!.nack();
      const w1 = await q.dequeue({ leaseMs: 60_000 });
      assert.equal(w1?.payload, 'w1', 'the poison job went to the dead letters instead of a second claim');
      assert.deepEqual(await q.counts(), { waiting: 1, inFlight: 1, delayed: 1, dead: 1 });
      assert.equal(await q.size(), 3);
    });

    fixtureTest(t, target, 'a dead letter can be retried with its attempts reset, or deleted', async (f) => {
      const q = (await f.open()).queue('revive', { maxAttempts: 1 });
      for (const p of ['a', 'b']) {
        await q.enqueue(p);
        await (await q.dequeue())!.nack();
      }
      assert.equal(await q.dequeue(), null);
      const dead = await q.deadLetters();
      assert.deepEqual(dead.map((d) => d.payload), ['a', 'b']);
      assert.equal(await q.retryDead(dead[0]!.id), true);
      assert.equal(await q.deleteDead(dead[1]!.id), true);
      assert.equal(await q.deleteDead(dead[1]!.id), false, 'no such dead letter any more');
      assert.deepEqual(await q.deadLetters(), []);
      const again = await q.dequeue();
      assert.equal(again?.payload, 'a');
      assert.equal(again?.attempts, 1, 'attempts start again from zero');
      await again!.ack();
      assert.deepEqual(await q.counts(), { waiting: 0, inFlight: 0, delayed: 0, dead: 0 });
    });

    processTest(
      t,
      target,
      'sixteen processes claiming one job at once: exactly one gets it',
      async (f) => {
        const state = await f.open();
        const { id } = await state.queue('one-job').enqueue({ only: true });
        const workers = Array.from({ length: 16 }, () => f.spawn('claimOnGo', { queue: 'one-job', go: 'one-job/go' }));
        await Promise.all(workers.map((w) => w.waitFor('ready')));
        await state.write('one-job/go', true);
        const got = (await Promise.all(workers.map((w) => w.waitFor('done')))).map((m) => m.id);
        assert.deepEqual(got.filter((g) => g !== null), [id], 'exactly one process claimed the job');
      },
      { timeoutMs: 180_000 },
    );

    processTest(
      t,
      target,
      'several processes draining one queue receive each job exactly once when all ack',
      async (f) => {
        const q = (await f.open()).queue('drain');
        const n = Math.max(20, Math.round(90 * scale));
        const workers = [0, 1, 2].map(() => f.spawn('consume', { queue: 'drain', idleMs: 2_000 }));
        await Promise.all(workers.map((w) => w.waitFor('ready')));
        const ids = new Set<string>();
        for (let i = 0; i < n; i++) ids.add((await q.enqueue({ i })).id);
        const got = (await Promise.all(workers.map((w) => w.waitFor('done')))).flatMap((m) => m.ids as string[]);
        assert.equal(got.length, n, 'no job delivered twice or lost');
        assert.deepEqual(new Set(got), ids);
        assert.equal(await q.size(), 0);
      },
      { timeoutMs: 120_000 },
    );

    processTest(
      t,
      target,
      'a consumer killed with SIGKILL mid-job loses nothing: the job comes back after its lease',
      async (f) => {
        const q = (await f.open()).queue('crash');
        const { id } = await q.enqueue({ important: true });
        // The lease must outlast the worker's report, the kill and the check (several process
        // switches on a loaded machine): 4 s. It starts at the claim, which is before the report
        // arrives; the job is looked for from then on, until a generous deadline.
        const leaseMs = 4_000;
        const worker = f.spawn('claimAndHang', { queue: 'crash', leaseMs });
        const claimed = await worker.waitFor('claimed');
        const reportedAt = Date.now();
        assert.equal(claimed.id, id);
        await worker.kill();
        assert.equal(await q.dequeue(), null, 'still leased to the dead consumer');
        await sleep(Math.max(0, reportedAt + leaseMs - Date.now()));
        let job = await q.dequeue();
        for (const deadline = Date.now() + 20_000; job === null && Date.now() < deadline; job = await q.dequeue()) await sleep(100);
        assert.equal(job?.id, id, 'the job came back within 20 s of its lease end');
        assert.deepEqual(job?.payload, { important: true });
        assert.equal(job?.attempts, 2);
        await job!.ack();
      },
      { timeoutMs: 60_000 },
    );
  });
}
