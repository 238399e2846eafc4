// A worker process for the native-family tests: opens the backend directly on the store named in
// argv[2] (JSON: { url, schema, namespace, task, args }), waits for "go" on stdin when asked, runs
// the task, prints JSON lines. Exits when stdin closes (its parent went away).
import { createInterface } from 'node:readline';
import { createPostgresBackend } from '../dist/index.js';

const { url, schema, namespace, task, args } = JSON.parse(process.argv[2]);
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const backend = createPostgresBackend({ url, schema });
await backend.init({ namespace, connectTimeoutMs: 10_000 });
const lines = createInterface({ input: process.stdin });
const go = new Promise((resolve) => lines.once('line', resolve));
lines.once('close', () => process.exit(0));
say({ type: 'ready' });
await go;
if (task === 'claim') {
  const job = await backend.queues.claim(args.queue, { leaseMs: 60_000, owner: `w${process.pid}` });
  say({ type: 'result', id: job?.id ?? null });
} else if (task === 'append') {
  const seqs = [];
  for (let i = 0; i < args.count; i++) {
    const out = await backend.logs.append(args.log, [JSON.stringify({ pid: process.pid, i })]);
    seqs.push(out[0].seq);
  }
  say({ type: 'result', seqs });
} else if (task === 'lockRelease') {
  // Takes the lock, says so, releases it on the next stdin line.
  const lease = await backend.tryLock(args.resource, { ttlMs: 60_000, owner: `w${process.pid}` });
  say({ type: 'locked', token: lease?.token ?? null });
  await new Promise((resolve) => lines.once('line', resolve));
  await backend.releaseLock(lease);
  say({ type: 'result', released: true });
} else if (task === 'enqueue') {
  const out = await backend.queues.enqueue(args.queue, { json: '"wake"', priority: 0 });
  say({ type: 'result', id: out.id });
}
await backend.close();
process.exit(0);
