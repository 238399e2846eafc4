/**
 * Spawns `native-worker.mjs` processes and drives them: every worker starts, says "ready",
 * and only then are all told "go" at once, so their commands really race.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REDIS_URL } from './redis.js';

const WORKER = fileURLToPath(new URL('./native-worker.mjs', import.meta.url));

/** Bound on a worker's whole life: a stuck worker fails the test instead of hanging it. */
const WORKER_DEADLINE_MS = 60_000;

export interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<unknown>;
  go(): void;
}

export function startWorker(namespace: string, command: string, args: object): Worker {
  const child = spawn(process.execPath, [WORKER, REDIS_URL, namespace, command, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const result = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker ${command} did not finish within ${WORKER_DEADLINE_MS} ms`));
    }, WORKER_DEADLINE_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) readyResolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const lines = out.trim().split('\n');
      if (code !== 0 || lines[0] !== 'ready' || lines.length < 2) reject(new Error(`worker ${command} exited with ${code}: ${out}`));
      else resolve(JSON.parse(lines[1]!));
    });
  });
  result.catch(() => undefined);
  return { child, ready, result, go: () => child.stdin!.write('go\n') };
}

/** Starts `count` workers, waits until each is ready, then lets them all go; their results. */
export async function race(namespace: string, count: number, command: string, args: object): Promise<unknown[]> {
  const workers = Array.from({ length: count }, () => startWorker(namespace, command, args));
  await Promise.race([Promise.all(workers.map((w) => w.ready)), Promise.all(workers.map((w) => w.result))]);
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.result));
}
