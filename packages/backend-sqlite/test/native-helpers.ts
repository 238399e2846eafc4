/** Shared pieces of the native-family tests: a backend per test and worker processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openState, type StateClient } from '@agent-state/core';
import type { SqliteBackend } from '../src/index.js';
import { freshDatabasePath, removeDatabase } from './temp.js';

const WORKER = fileURLToPath(new URL('./native-worker.mjs', import.meta.url));
/** Bound on any wait for a worker, generous for a loaded 2-core machine. */
export const WORKER_DEADLINE_MS = 60_000;

/** One test's store: a fresh database, clients opened through openState, workers; all cleaned up. */
export class NativeFixture {
  readonly path = freshDatabasePath();
  readonly namespace = 'ns';
  readonly #clients: StateClient[] = [];
  readonly #workers = new Set<Worker>();

  /** A client's backend (the native families under test). */
  async backend(): Promise<SqliteBackend> {
    const state = await openState({ config: { backend: 'sqlite', namespace: this.namespace, settings: { database_path: this.path } }, env: {} });
    this.#clients.push(state);
    return state.backend as unknown as SqliteBackend;
  }

  /** Starts a worker process on this store. */
  spawn(task: string, args: Record<string, unknown>): Worker {
    const child = spawn(process.execPath, [WORKER, JSON.stringify({ databasePath: this.path, namespace: this.namespace, task, args })], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const worker = new Worker(child);
    this.#workers.add(worker);
    return worker;
  }

  async dispose(): Promise<void> {
    for (const w of this.#workers) w.child.kill('SIGKILL');
    await Promise.all([...this.#workers].map((w) => w.exited));
    await Promise.all(this.#clients.map((c) => c.close()));
    removeDatabase(this.path);
  }
}

/** A worker process: its JSON lines, and a way to wait for one of a type. */
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
      const done = (m: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push({ type, resolve: done });
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
