// A worker process for the native-family tests: opens the store from argv[2] and runs one task
// on the backend surface directly, reporting JSON lines on stdout.
import { openState } from '@agent-state/core';

const { config, task, args } = JSON.parse(process.argv[2]);
const emit = (type, data = {}) => process.stdout.write(`${JSON.stringify({ type, ...data })}\n`);
const sleepUntil = (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

const tasks = {
  /** `n` increments of one key, retried by nothing but the backend; reports the results. */
  async increment(backend) {
    await backend.read(args.key); // warm the listener before the start line
    emit('ready');
    await sleepUntil(args.startAt);
    const results = [];
    for (let i = 0; i < args.n; i++) results.push(await backend.increment(args.key, 1));
    emit('done', { results });
  },
  /** Transfers between two keys until killed (the SIGKILL test of the commit protocol). */
  async transfer(backend, state) {
    emit('ready');
    for (let i = 0; ; i++) {
      await state.transaction(async (tx) => {
        const a = (await tx.read(args.a))?.value ?? 0;
        const b = (await tx.read(args.b))?.value ?? 0;
        tx.write(args.a, a - 1);
        tx.write(args.b, b + 1);
      });
      if (i === 5) emit('running');
    }
  },
  /** Waits for the start time, then one claim; reports the id or null. */
  async claim(backend) {
    await backend.queues.counts(args.queue); // warm the listener before the start line
    emit('ready');
    await sleepUntil(args.startAt);
    const job = await backend.queues.claim(args.queue, { leaseMs: 60_000, owner: `worker-${process.pid}` });
    emit('claimed', { id: job?.id ?? null });
  },
  /** `n` single-record appends; reports every seq. */
  async append(backend) {
    await backend.logs.lastSeq(args.log);
    emit('ready');
    await sleepUntil(args.startAt);
    const seqs = [];
    for (let i = 0; i < args.n; i++) {
      const [r] = await backend.logs.append(args.log, [JSON.stringify({ pid: process.pid, i })]);
      seqs.push(r.seq);
    }
    emit('done', { seqs });
  },
  /** Takes the lock, says so, releases it once the key `args.go` exists (10 s at most), says so. */
  async lockThenRelease(backend) {
    const lease = await backend.tryLock(args.resource, { ttlMs: 30_000, owner: `worker-${process.pid}` });
    if (!lease) throw new Error(`${args.resource} is held by someone else`);
    emit('locked', { token: lease.token });
    const deadline = Date.now() + 10_000;
    while ((await backend.read(args.go)) === null) {
      if (Date.now() > deadline) throw new Error(`no ${args.go} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await backend.releaseLock(lease);
    emit('released');
  },
  /** Listens on a topic, says so, and reports the first wakeup. */
  async listen(backend) {
    await new Promise((resolve) => {
      let stop;
      backend.notify.listen(args.topic, () => {
        emit('woken');
        void stop?.().then(resolve);
      }).then((s) => {
        stop = s;
        emit('listening');
      });
    });
  },
};

const state = await openState({ config, env: {} });
try {
  await tasks[task](state.backend, state);
} finally {
  await state.close();
}
