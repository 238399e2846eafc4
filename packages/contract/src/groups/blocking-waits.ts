import assert from 'node:assert/strict';
import { TimeoutError, sleep } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';

/** An abort reason that is easy to recognise. */
function abortSoon(ms: number): { signal: AbortSignal; reason: Error } {
  const controller = new AbortController();
  const reason = new Error('aborted by the test');
  setTimeout(() => controller.abort(reason), ms).unref();
  return { signal: controller.signal, reason };
}

/**
 * Second wave: blocking waits, woken by the backend's own notification. `dequeue({ waitMs })`
 * and `mailbox.receive({ waitMs })` resolve `null` / `[]` on timeout, `waitFor` rejects with
 * `TimeoutError`; an aborted signal rejects each with its reason. No test asserts a latency.
 */
export function blockingWaitsGroup(t: TestApi, target: ContractTarget): void {
  t.describe('blocking waits', () => {
    fixtureTest(t, target, 'a waiting dequeue returns the job another client enqueues; timeout gives null; abort rejects with the reason', async (f) => {
      const [consumer, producer] = [await f.open(), await f.open()];
      const q = consumer.queue('bw');
      const waiting = q.dequeue({ waitMs: 10_000 });
      await sleep(50);
      const { id } = await producer.queue('bw').enqueue({ wake: true });
      const job = await waiting;
      assert.equal(job?.id, id);
      assert.deepEqual(job?.payload, { wake: true });
      assert.equal(await job!.ack(), true);
      assert.equal(await q.dequeue({ waitMs: 150 }), null, 'nothing came: null after waitMs');
      const { signal, reason } = abortSoon(100);
      await assert.rejects(q.dequeue({ waitMs: 10_000, signal }), (e: unknown) => e === reason);
      await assert.rejects(q.dequeue({ waitMs: -1 }), /options\.waitMs/);
      await assert.rejects(q.dequeue({ signal: 'no' as never }), /options\.signal/);
    });

    fixtureTest(t, target, 'a waiting receive returns the message another client sends; timeout gives []; abort rejects', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const inbox = a.mailbox('waiter');
      const waiting = inbox.receive({ waitMs: 10_000 });
      await sleep(50);
      await b.mailbox('sender').send('waiter', { hello: 1 });
      const got = await waiting;
      assert.deepEqual(got.map((m) => [m.from, m.message]), [['sender', { hello: 1 }]]);
      assert.equal(await inbox.ack(got.map((m) => m.id)), 1);
      assert.deepEqual(await inbox.receive({ waitMs: 150 }), []);
      const { signal, reason } = abortSoon(100);
      await assert.rejects(inbox.receive({ waitMs: 10_000, signal }), (e: unknown) => e === reason);
    });

    fixtureTest(t, target, 'waitFor resolves at once when already true, after a write when it becomes true, TimeoutError on timeout, abort rejects', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      await a.write('wf/ready', { n: 1 });
      const now = await a.waitFor<{ n: number }>('wf/ready', (e) => (e?.value.n ?? 0) >= 1, { timeoutMs: 1_000 });
      assert.equal(now?.value.n, 1);
      assert.equal(await a.waitFor('wf/absent', (e) => e === null, { timeoutMs: 1_000 }), null, 'an absent key can satisfy the predicate');
      const later = a.waitFor<{ n: number }>('wf/ready', (e) => (e?.value.n ?? 0) >= 3, { timeoutMs: 10_000 });
      await b.write('wf/ready', { n: 2 });
      await b.write('wf/ready', { n: 3 });
      assert.equal((await later)?.value.n, 3);
      await assert.rejects(a.waitFor('wf/never', (e) => e !== null, { timeoutMs: 150 }), (e: unknown) => {
        assert.ok(e instanceof TimeoutError);
        assert.equal(e.code, 'TIMEOUT');
        return true;
      });
      const { signal, reason } = abortSoon(100);
      await assert.rejects(a.waitFor('wf/never', (e) => e !== null, { timeoutMs: 10_000, signal }), (e: unknown) => e === reason);
      await assert.rejects(a.waitFor('wf/x', 'yes' as never), /predicate/);
      await assert.rejects(a.waitFor('wf/x', () => true, { timeoutMs: -5 }), /options\.timeoutMs/);
    });

    processTest(t, target, 'a lock released in another process wakes the listeners of its lock topic (lockWake), and a waiting lock() takes it', async (f) => {
      const state = await f.open();
      const backend = backendOf(state);
      const holder = f.spawn('lockThenRelease', { resource: 'bw/lock', holdMs: 800 });
      const locked = await holder.waitFor('locked');
      // A backend that announces releases: a listener of the topic hears this one, from another process.
      let woken = false;
      let heard: Promise<void> | undefined;
      let stop: (() => Promise<void>) | undefined;
      if (backend.capabilities.coordination?.lockWake === true && target.portable !== true) {
        assert.ok(backend.notify, 'lockWake is declared: notify.listen must exist');
        heard = new Promise<void>((resolve) => {
          void backend.notify!.listen({ kind: 'lock', name: 'bw/lock' }, () => {
            woken = true;
            resolve();
          }).then((s) => (stop = s));
        });
        // Subscribed before the release: waiting for `listen` to resolve.
        for (let i = 0; i < 200 && !stop; i++) await sleep(10);
        assert.ok(stop, 'listen resolved');
      }
      const lock = await state.lock('bw/lock', { waitMs: 10_000 });
      assert.ok(lock.token > (locked.token as number), 'the waiter holds a newer lease');
      await lock.release();
      await holder.done;
      if (heard) {
        const deadline = sleep(10_000).then(() => 'no wakeup within 10 s of the release');
        assert.equal(await Promise.race([heard.then(() => 'woken'), deadline]), 'woken');
        assert.ok(woken);
        await stop!();
      }
    });

    processTest(t, target, "a dequeue waiting with waitMs 10 000 returns the job another process enqueues", async (f) => {
      const q = (await f.open()).queue('bw-proc');
      const waiting = q.dequeue({ waitMs: 10_000 });
      const worker = await f.run('enqueue', { queue: 'bw-proc', payload: { from: 'worker' } });
      const job = await waiting;
      assert.ok(job, 'woken within waitMs');
      assert.equal(job.id, worker.find((m) => m.type === 'done')?.id);
      assert.deepEqual(job.payload, { from: 'worker' });
      await job.ack();
    });

    processTest(t, target, 'a receive waiting with waitMs returns the message another process sends', async (f) => {
      const inbox = (await f.open()).mailbox('proc-waiter');
      const waiting = inbox.receive({ waitMs: 10_000 });
      await f.run('send', { from: 'proc-sender', to: 'proc-waiter', message: 'over here' });
      const got = await waiting;
      assert.deepEqual(got.map((m) => m.message), ['over here']);
    });

    processTest(t, target, 'waitFor becomes true after another process writes the key', async (f) => {
      const state = await f.open();
      const waiting = state.waitFor<{ done: boolean }>('wf/proc', (e) => e?.value.done === true, { timeoutMs: 10_000 });
      await f.run('write', { key: 'wf/proc', value: { done: true } });
      assert.equal((await waiting)?.value.done, true);
    });
  });
}
