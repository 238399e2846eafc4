/** Shared helpers of the native-family tests: a store on the emulator, worker processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import type { FirebaseBackend } from '../src/index.js';
import { freshConfig, removeNamespace } from './fixtures.js';

const WORKER = fileURLToPath(new URL('./native-worker.mjs', import.meta.url));

export interface Worker {
  /** Resolves with the first message of `type`. */
  next(type: string): Promise<Record<string, unknown>>;
  done: Promise<number | null>;
}

/** One test's store: clients and workers, all closed and removed by `dispose`. */
export class NativeStore {
  readonly config: CommunicationConfigInput = freshConfig();
  readonly #clients: StateClient[] = [];
  readonly #children = new Set<ChildProcess>();

  async open(): Promise<FirebaseBackend> {
    const state = await openState({ config: this.config, env: {} });
    this.#clients.push(state);
    return state.backend as FirebaseBackend;
  }

  spawn(task: string, args: Record<string, unknown>): Worker {
    const child = spawn(process.execPath, [WORKER, JSON.stringify({ config: this.config, task, args })], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.add(child);
    const messages: Record<string, unknown>[] = [];
    const waiters: { type: string; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      messages.push(message);
      for (const w of waiters.splice(0)) {
        if (w.type === message.type) w.resolve(message);
        else waiters.push(w);
      }
    });
    const done = new Promise<number | null>((resolve) =>
      child.once('close', (code) => {
        this.#children.delete(child);
        for (const w of waiters.splice(0)) w.reject(new Error(`worker ${task} exited (${code}) before "${w.type}": ${stderr.slice(-1500)}`));
        resolve(code);
      }),
    );
    return {
      next: (type) => {
        const seen = messages.find((m) => m.type === type);
        return seen ? Promise.resolve(seen) : new Promise((resolve, reject) => waiters.push({ type, resolve, reject }));
      },
      done,
    };
  }

  /** Kills every worker of this store with SIGKILL (no cleanup runs in them). */
  killAll(): void {
    for (const child of this.#children) child.kill('SIGKILL');
  }

  async dispose(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    await Promise.all(this.#clients.map((c) => c.close()));
    await removeNamespace(this.config.namespace);
  }
}

/** Resolves once `check()` holds; re-checks every 20 ms for up to 10 s (a bound, not a timing claim). */
export async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met within 10 s');
}
