// A child process for the native-family race tests. Opens the backend from the built package
// (dist/), prints "ready", waits for "go" on stdin, runs one command, prints its result as one
// JSON line and exits. Usage: node native-worker.mjs <redisUrl> <namespace> <command> <json args>
import { createInterface } from 'node:readline';
import { createRedisBackend } from '../../dist/index.js';

const [url, namespace, command, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? '{}');
const backend = createRedisBackend({ url });
await backend.init({ namespace, connectTimeoutMs: 10_000 });
const lines = createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once('line', resolve));

let stop = async () => undefined;
let woke;
const wakeup = new Promise((resolve) => (woke = resolve));
if (command === 'listen') stop = await backend.notify.listen(args.topic, () => woke());
process.stdout.write('ready\n');
await next();

let result;
if (command === 'claim') {
  result = await backend.queues.claim(args.queue, { leaseMs: 60_000, owner: `pid-${process.pid}` });
} else if (command === 'append') {
  result = [];
  for (let i = 0; i < args.count; i++) result.push(...(await backend.logs.append(args.log, [JSON.stringify({ pid: process.pid, i })])));
} else if (command === 'release') {
  await backend.releaseLock(args.lease);
  result = 'released';
} else if (command === 'listen') {
  const timer = setTimeout(() => woke('timeout'), 30_000);
  result = (await wakeup) ?? 'woke';
  clearTimeout(timer);
  await stop();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
lines.close();
await backend.close();
