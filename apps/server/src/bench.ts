/**
 * The bench hook (packages/bench `runBench({ extraSubjects })`): agent-state through
 * `agent-state serve`, so the report sets the HTTP hop beside the in-process library on the
 * same store. Typed structurally (the bench's `SubjectSpec`), so this package does not depend on
 * the bench.
 *
 *   import { httpSubject } from '@agent-state/server';
 *   await runBench({ extraSubjects: { file: [httpSubject], sqlite: [httpSubject], redis: [httpSubject] } });
 */
import { join } from 'node:path';
import type { CommunicationConfigInput } from '@agent-state/core';
import { serve } from './serve.js';

/** What the bench hands a subject: where the run's stores are (the bench's `StoreRef`). */
export interface BenchStoreRef {
  backend: 'file' | 'sqlite' | 'redis' | 'firebase' | 'memory';
  root: string;
  namespace: string;
  redisUrl?: string;
  firebase?: { databaseUrl: string; emulatorHost: string };
}

/** The bench's `Subject` operations this subject has. */
export interface HttpBenchSubject {
  read(key: string): Promise<unknown>;
  write(key: string, value: unknown): Promise<void>;
  lockCycle(resource: string, options: { wait: boolean }): Promise<void>;
  queueCycle(name: string): Promise<void>;
  close(): Promise<void>;
}

/** The same store the bench's `ours` subject opens (packages/bench/src/subjects/ours.ts). */
function configFor(store: BenchStoreRef): CommunicationConfigInput {
  const namespace = store.namespace;
  switch (store.backend) {
    case 'file':
      return { backend: 'file', namespace, settings: { directory: join(store.root, 'ours') } };
    case 'sqlite':
      return { backend: 'sqlite', namespace, settings: { database_path: join(store.root, 'ours.db') } };
    case 'redis':
      return { backend: 'redis', namespace, settings: { redis_url: store.redisUrl ?? 'redis://127.0.0.1:6379' } };
    case 'firebase':
      return { backend: 'firebase', namespace, settings: { database_url: store.firebase?.databaseUrl ?? '', emulator_host: store.firebase?.emulatorHost ?? '' } };
    case 'memory':
      return { backend: 'memory', namespace };
  }
}

/** Opens a server on `store` in this process (free port) and a keep-alive HTTP client to it. */
export async function openHttpSubject(store: BenchStoreRef): Promise<HttpBenchSubject> {
  const server = await serve({
    config: configFor(store),
    env: {},
    port: 0,
    tokenFile: join(store.root, `serve-${process.pid}.token`),
    out: () => undefined,
    err: () => undefined,
  });
  const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers' shapes are the API's, read field by field below
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await res.text();
    if (res.status >= 400 && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const keyPath = (key: string) => key.split('/').map(encodeURIComponent).join('/');
  return {
    async read(key) {
      const r = await call('GET', `/v1/keys/${keyPath(key)}`);
      return r.status === 404 ? undefined : r.json.value;
    },
    async write(key, value) {
      await call('PUT', `/v1/keys/${keyPath(key)}`, { value });
    },
    async lockCycle(resource, options) {
      const { json: lease } = await call('POST', `/v1/locks/${keyPath(resource)}`, { ttlMs: 10_000, waitMs: options.wait ? 60_000 : 0 });
      await call('DELETE', `/v1/locks/${keyPath(resource)}`, { token: lease.token, owner: lease.owner });
    },
    async queueCycle(name) {
      await call('POST', `/v1/queues/${encodeURIComponent(name)}/jobs`, { payload: { at: Date.now() } });
      const { status, json: job } = await call('POST', `/v1/queues/${encodeURIComponent(name)}/claim`, { leaseMs: 30_000 });
      if (status !== 200) throw new Error('claim found no job right after enqueue');
      await call('POST', `/v1/queues/${encodeURIComponent(name)}/jobs/${encodeURIComponent(job.id)}/ack`, { leaseId: job.leaseId });
    },
    close: () => server.stop(),
  };
}

/**
 * The subject spec for `runBench({ extraSubjects })`. Only single-process workloads: the bench's
 * worker processes look subjects up in their own catalog.
 */
export const httpSubject = {
  id: 'ours-http',
  kind: 'peer' as const,
  label: 'agent-state through agent-state serve (HTTP/JSON on loopback, keep-alive)',
  capabilities: ['read', 'write', 'lockCycle', 'queueCycle'] as const,
  only: ['ycsb-c', 'write', 'seed', 'seed-32', 'lock', 'queue'] as const,
  open: openHttpSubject,
};

// ----- the metrics cost case (issue 17: ours with metrics on ÷ off ≥ 0.95) -------------------

/** The in-process library on the bench's store, with core's metrics on or off. */
export interface MetricsBenchSubject {
  read(key: string): Promise<unknown>;
  write(key: string, value: unknown): Promise<void>;
  lockCycle(resource: string, options: { wait: boolean }): Promise<void>;
  queueCycle(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openMetricsSubject(store: BenchStoreRef, metrics: boolean): Promise<MetricsBenchSubject> {
  const { openState } = await import('@agent-state/core');
  const state = await openState({ config: configFor(store), env: {}, metrics });
  return {
    async read(key) {
      return (await state.read(key))?.value;
    },
    async write(key, value) {
      await state.write(key, value as never);
    },
    async lockCycle(resource, options) {
      const lock = await state.lock(resource, { ttlMs: 10_000, waitMs: options.wait ? 60_000 : 0 });
      await lock.release();
    },
    async queueCycle(name) {
      const q = state.queue(name);
      await q.enqueue({ at: Date.now() });
      const job = await q.dequeue({ leaseMs: 30_000 });
      if (!job) throw new Error('dequeue found no job right after enqueue');
      await job.ack();
    },
    close: () => state.close(),
  };
}

const metricsSpec = (on: boolean) => ({
  id: on ? 'ours-metrics-on' : 'ours-metrics-off',
  kind: 'peer' as const,
  label: `agent-state in process, core metrics ${on ? 'on (the default)' : 'off (metrics: false)'}`,
  capabilities: ['read', 'write', 'lockCycle', 'queueCycle'] as const,
  only: ['ycsb-c', 'write', 'lock', 'queue'] as const,
  open: (store: BenchStoreRef) => openMetricsSubject(store, on),
});

/**
 * The metrics cost case for `runBench({ extraSubjects })`: the same library with metrics on and
 * off. The bench interleaves single-process runs of a workload's subjects (run 1 of each, run 2
 * of each …), so on/off runs alternate; the figure is the median over ≥ 5 pairs of
 * ops/s(on) ÷ ops/s(off) ({@link metricsCostRatio}), target ≥ 0.95 on the hottest in-process
 * case (ycsb-c on memory or file).
 */
export const metricsSubjects = [metricsSpec(true), metricsSpec(false)] as const;

/** Median of on ÷ off over alternated pairs of ops/s figures. */
export function metricsCostRatio(pairs: readonly { on: number; off: number }[]): number {
  if (pairs.length === 0) throw new RangeError('metricsCostRatio: expected at least one pair');
  const ratios = pairs.map((p) => p.on / p.off).sort((a, b) => a - b);
  const mid = Math.floor(ratios.length / 2);
  return ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

/**
 * A self-contained run of the case (for a quick look, not for quoting: use the bench for that):
 * `pairs` alternated runs of `ops` reads each on a memory store, on then off then on …
 */
export async function measureMetricsCost(options: { pairs?: number; ops?: number } = {}): Promise<{ ratio: number; pairs: { on: number; off: number }[] }> {
  const pairs = options.pairs ?? 5;
  const ops = options.ops ?? 20_000;
  const store: BenchStoreRef = { backend: 'memory', root: '', namespace: `metrics-cost-${process.pid}-${Date.now()}` };
  const on = await openMetricsSubject(store, true);
  const off = await openMetricsSubject({ ...store, namespace: `${store.namespace}-off` }, false);
  try {
    await on.write('k/1', { v: 1 });
    await off.write('k/1', { v: 1 });
    const run = async (s: MetricsBenchSubject) => {
      const t = performance.now();
      for (let i = 0; i < ops; i++) await s.read('k/1');
      return ops / ((performance.now() - t) / 1000);
    };
    await run(on);
    await run(off);
    const out: { on: number; off: number }[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which goes first, so a drift in load does not favour one side.
      if (i % 2 === 0) out.push({ on: await run(on), off: await run(off) });
      else {
        const o = await run(off);
        out.push({ on: await run(on), off: o });
      }
    }
    return { ratio: metricsCostRatio(out), pairs: out };
  } finally {
    await on.close();
    await off.close();
  }
}
