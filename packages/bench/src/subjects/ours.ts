import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import { postgresSchemaOf } from '../stores.js';
import { CLI_KEY, cliEnv, cliProjectDir, requireAgentStateBin, run } from './commands.js';
import type { QueueDrainOptions, StoreRef, Subject, SubjectSpec } from './types.js';

/**
 * SQLite's busy budget in the bench: 50–100 processes (the swarm, the multi-process axis) starting
 * or writing at once on 2 cores queue for the one write lock longer than the default 5 s.
 * examples/swarm uses the same.
 */
export const BENCH_SQLITE_BUSY_TIMEOUT_MS = 30_000;

/** How a process uses our client: `agent` is one of many processes (the swarm's agents). */
export interface OursRole {
  /**
   * One of many processes on one store: Postgres with `postgres_pool_size: 1`, so the process
   * holds one connection (the pool's connection also carries LISTEN) and 50 agents fit in the
   * server's default `max_connections` 100.
   */
  agent?: boolean;
}

/** The `communication` config that opens our client on `store`. */
export function oursConfig(store: StoreRef, role: OursRole = {}): CommunicationConfigInput {
  const namespace = store.namespace;
  switch (store.backend) {
    case 'file':
      return { backend: 'file', namespace, settings: { directory: join(store.root, 'ours') } };
    case 'sqlite':
      return { backend: 'sqlite', namespace, settings: { database_path: join(store.root, 'ours.db'), busy_timeout_ms: BENCH_SQLITE_BUSY_TIMEOUT_MS } };
    case 'redis':
      return { backend: 'redis', namespace, settings: { redis_url: store.redisUrl ?? 'redis://127.0.0.1:6379' } };
    case 'postgres':
      return {
        backend: 'postgres',
        namespace,
        settings: {
          postgres_url: store.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres',
          postgres_schema: postgresSchemaOf(store),
          ...(role.agent === true && { postgres_pool_size: 1 }),
        },
      };
    case 'firebase':
      return {
        backend: 'firebase',
        namespace,
        settings: { database_url: store.firebase?.databaseUrl ?? '', emulator_host: store.firebase?.emulatorHost ?? '' },
      };
    case 'memory':
      return { backend: 'memory', namespace };
  }
}

/** Opens our client on `store`. `env: {}` so COMMUNICATION_BACKEND cannot redirect the bench. */
export function openOurs(store: StoreRef, options: { metrics?: boolean } & OursRole = {}): Promise<StateClient> {
  return openState({ config: oursConfig(store, options), env: {}, ...(options.metrics === false && { metrics: false }) });
}

/** Our client with `metrics: false`: the baseline of the metrics-cost case (issue 17). */
export const oursMetricsOff: SubjectSpec = {
  id: 'metrics-off',
  kind: 'raw',
  label: 'agent-state with openState({ metrics: false })',
  capabilities: ['read', 'write'],
  only: ['metrics-cost'],
  async open(store: StoreRef): Promise<Subject> {
    const state = await openOurs(store, { metrics: false });
    return {
      async read(key) {
        return (await state.read(key))?.value;
      },
      async write(key, value) {
        await state.write(key, value as never);
      },
      close: () => state.close(),
    };
  },
};

/** agent-state itself, through `openState()` and the public API only. */
export const ours: SubjectSpec = {
  id: 'ours',
  kind: 'ours',
  label: 'agent-state (openState + public API)',
  capabilities: ['read', 'write', 'rmw', 'lockCycle', 'queueCycle', 'queueDrain', 'cliCall', 'state'],
  async open(store: StoreRef): Promise<Subject> {
    const state = await openOurs(store);
    let cli: { bin: string; cwd: string } | undefined;
    return {
      state,
      async read(key) {
        return (await state.read(key))?.value;
      },
      async write(key, value) {
        await state.write(key, value as never);
      },
      async rmw(key, fn) {
        await state.update(key, (current) => fn(current?.value) as never);
      },
      async lockCycle(resource, options) {
        const lock = await state.lock(resource, { ttlMs: 10_000, waitMs: options.wait ? 60_000 : 0 });
        await lock.release();
      },
      async queueCycle(name) {
        const queue = state.queue(name);
        await queue.enqueue({ at: Date.now() });
        const job = await queue.dequeue({ leaseMs: 30_000 });
        if (!job) throw new Error('dequeue found no job right after enqueue');
        await job.ack();
      },
      async queueDrain({ name, jobs, workers }: QueueDrainOptions) {
        const queue = state.queue(name);
        const t0 = performance.now();
        for (let n = 0; n < jobs; n++) await queue.enqueue({ n });
        const t1 = performance.now();
        let done = 0;
        // Every job is waiting before the consumers start, so an empty claim means drained.
        const consumer = async (): Promise<void> => {
          for (;;) {
            const job = await queue.dequeue({ leaseMs: 60_000 });
            if (!job) return;
            await job.ack();
            done++;
          }
        };
        await Promise.all(Array.from({ length: workers }, consumer));
        const t2 = performance.now();
        if (done !== jobs) throw new Error(`drained ${done} of ${jobs} jobs`);
        return { addMs: t1 - t0, processMs: t2 - t1 };
      },
      async cliCall() {
        cli ??= { bin: requireAgentStateBin(), cwd: cliProjectDir(store) };
        await run(process.execPath, [cli.bin, 'get', CLI_KEY], { cwd: cli.cwd, env: cliEnv() });
      },
      close: () => state.close(),
    };
  },
};
