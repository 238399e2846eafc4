// A worker process for the native-family tests: opens the backend on the database given in argv,
// prints {"type":"ready"}, waits for a "go" line on stdin (so racers start together), runs its
// task, prints one JSON line per result and exits. Uses the built package (dist/).
import { createInterface } from 'node:readline';
import { createSqliteBackend } from '../dist/index.js';
import { notifyCounterReads, setNotifyFallbackMs } from '../dist/notify.js';

const { databasePath, namespace, task, args } = JSON.parse(process.argv[2]);
const backend = createSqliteBackend({ databasePath, busyTimeoutMs: 20_000 });
await backend.init({ namespace, connectTimeoutMs: 20_000 });
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const lines = createInterface({ input: process.stdin });
const go = new Promise((resolve) => lines.once('line', resolve));

if (task === 'listen') {
  // No safety-net re-check within the test's deadline: a wake can only come from the WAL watch.
  if (args.noFallback) setNotifyFallbackMs(10 * 60_000);
  // Listen first, then say ready; exit on the first wake.
  const woke = new Promise((resolve) => {
    void backend.notify.listen(args.topic, resolve).then(() => say({ type: 'ready' }));
  });
  await woke;
  say({ type: 'woke', counterReads: notifyCounterReads() });
} else if (task === 'lockWaiter') {
  // A lock waiter as core runs one: a failed try (which marks the lease), listen, try again on
  // the wake. No safety-net re-check: the wake must come from the release's bell.
  if (args.noFallback) setNotifyFallbackMs(10 * 60_000);
  const tryOnce = () => backend.tryLock(args.resource, { ttlMs: 60_000, owner: `pid-${process.pid}` });
  if ((await tryOnce()) !== null) throw new Error('the lock was expected to be held');
  let wake;
  const woke = new Promise((resolve) => (wake = resolve));
  const stop = await backend.notify.listen({ kind: 'lock', name: args.resource }, () => wake());
  let lease = await tryOnce();
  if (lease === null) {
    say({ type: 'ready' });
    await woke;
    lease = await tryOnce();
  }
  await stop();
  say({ type: 'woke', lease });
} else {
  say({ type: 'ready' });
  await go;
  if (task === 'claim') {
    const job = await backend.queues.claim(args.queue, { leaseMs: 60_000, owner: `pid-${process.pid}` });
    say({ type: 'claim', job });
  } else if (task === 'append') {
    const seqs = [];
    for (let i = 0; i < args.count; i++) {
      const [r] = await backend.logs.append(args.log, [JSON.stringify({ pid: process.pid, i })]);
      seqs.push(r.seq);
    }
    say({ type: 'appended', seqs });
  } else if (task === 'hammer') {
    // Increments one key until the deadline: contention for the write lock.
    let n = 0;
    const until = performance.now() + args.durationMs;
    while (performance.now() < until) {
      await backend.increment(args.key, 1);
      n++;
    }
    say({ type: 'hammered', n });
  }
}
lines.close();
process.stdin.destroy();
await backend.close();
