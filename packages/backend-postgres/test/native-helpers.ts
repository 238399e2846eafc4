/** Shared pieces of the native-family tests: backends on this run's schema and worker processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createPostgresBackend, dropNamespace, type PostgresBackend, type PostgresBackendOptions } from '../src/index.js';
import { RUN_SCHEMA, TEST_URL, freshNamespace } from './pg-helpers.js';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
/** Bound on any wait for a worker, generous for a loaded 2-core machine. */
export const WORKER_DEADLINE_MS = 60_000;

/** One test's namespace: backends opened on it and workers; all closed and its rows dropped after. */
export class NativeFixture {
  readonly namespace = freshNamespace('native');
  readonly #backends: PostgresBackend[] = [];
  readonly #workers = new Set<Worker>();

  async backend(options: Omit<PostgresBackendOptions, 'url' | 'schema'> = {}): Promise<PostgresBackend> {
    const backend = createPostgresBackend({ ...options, url: TEST_URL, schema: RUN_SCHEMA });
    await backend.init({ namespace: this.namespace, connectTimeoutMs: 10_000 });
    this.#backends.push(backend);
    return backend;
  }

  spawn(task: string, args: Record<string, unknown>): Worker {
    const child = spawn(process.execPath, [WORKER, JSON.stringify({ url: TEST_URL, schema: RUN_SCHEMA, namespace: this.namespace, task, args })], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const worker = new Worker(child);
    this.#workers.add(worker);
    return worker;
  }

  async dispose(): Promise<void> {
    for (const w of this.#workers) w.child.kill('SIGKILL');
    await Promise.all([...this.#workers].map((w) => w.exited));
    await Promise.all(this.#backends.map((b) => b.close()));
    await dropNamespace({ url: TEST_URL, schema: RUN_SCHEMA }, this.namespace);
  }
}

export class Worker {
  readonly messages: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;
  #stderr = '';
  #waiters: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      this.messages.push(message);
      this.#waiters = this.#waiters.filter((w) => (w.type === message.type ? (w.resolve(message), false) : true));
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  /** The first message of `type`; rejects after WORKER_DEADLINE_MS or if the worker exits first. */
  waitFor(type: string): Promise<Record<string, unknown>> {
    const seen = this.messages.find((m) => m.type === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" from the worker within ${WORKER_DEADLINE_MS} ms: ${this.#stderr}`)), WORKER_DEADLINE_MS);
      this.#waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code}) before "${type}": ${this.#stderr}`));
      });
    });
  }

  /** Releases the start barrier. */
  go(): void {
    this.child.stdin!.write('go\n');
  }
}

/** Resolves when `check` is true, polling every 20 ms; rejects after `deadlineMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
