/**
 * The server's bench cases (issue 16 Deliver 5), an `--extra` module of packages/bench
 * (`agent-state-bench --extra @agent-state/server/bench`; the root `npm run bench` passes it):
 *
 * - `http-read`, `http-write`: keys through a real `agent-state serve` child process
 *   (`ours-http`), beside the library in process (the bench's own `ours`) and a bare Fastify
 *   route returning a constant in its own process (`http-bare`, the HTTP floor), 16 requests in
 *   flight each, runs interleaved.
 * - `http-claim`: enqueue → claim → ack through the server vs in process, 16 in flight.
 * - `mcp-claim`: `task_add` then `task_claim` then `task_done` through the MCP SDK's own client
 *   over streamable HTTP, 16 clients; the recorded latency is `task_claim`'s.
 * - `wake-claim`, `wake-sse`: a blocked claim (`POST …/claim` with `waitMs`) or an SSE subscriber
 *   of the server, woken by an enqueue or publish that another process (the bench, through the
 *   library) makes on the same store; the recorded latency is from the enqueue/publish resolving
 *   to the claim's answer / the event's arrival (0 when the wake came first). Beside them the
 *   library's own in-process wake (`ours`).
 *
 * Typed structurally (the bench's `SubjectSpec` and `Workload`), so this package does not depend
 * on the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openState, type CommunicationConfigInput, type JsonValue, type StateClient } from '@agent-state/core';

/** What the bench hands a subject: where the run's stores are (the bench's `StoreRef`). */
export interface BenchStoreRef {
  backend: 'file' | 'sqlite' | 'redis' | 'postgres' | 'firebase' | 'memory';
  root: string;
  namespace: string;
  redisUrl?: string;
  postgresUrl?: string;
  firebase?: { databaseUrl: string; emulatorHost: string };
}

/** The store the bench's `ours` subject opens (packages/bench/src/subjects/ours.ts `oursConfig`). */
export function benchConfigFor(store: BenchStoreRef): CommunicationConfigInput {
  const namespace = store.namespace;
  switch (store.backend) {
    case 'file':
      return { backend: 'file', namespace, settings: { directory: join(store.root, 'ours') } };
    case 'sqlite':
      return { backend: 'sqlite', namespace, settings: { database_path: join(store.root, 'ours.db') } };
    case 'redis':
      return { backend: 'redis', namespace, settings: { redis_url: store.redisUrl ?? 'redis://127.0.0.1:6379' } };
    case 'postgres':
      return {
        backend: 'postgres',
        namespace,
        // The bench's postgresSchemaOf: the run's schema, dropped by the bench at the end.
        settings: { postgres_url: store.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres', postgres_schema: namespace.replaceAll('-', '_') },
      };
    case 'firebase':
      return { backend: 'firebase', namespace, settings: { database_url: store.firebase?.databaseUrl ?? '', emulator_host: store.firebase?.emulatorHost ?? '' } };
    case 'memory':
      return { backend: 'memory', namespace };
  }
}

// ----- child processes ------------------------------------------------------------------------

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** The committed `agent-state` shim of apps/cli (AGENT_STATE_BIN overrides, as in the bench). */
function agentStateBin(): string {
  return process.env['AGENT_STATE_BIN'] || fileURLToPath(new URL('../../cli/bin/agent-state.mjs', import.meta.url));
}

/** A child process that printed `listening on http://127.0.0.1:PORT`. */
interface Listening {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Spawns `args` and waits (deadline 20 s) for its ready line; SIGTERM then SIGKILL after 5 s to stop. */
async function spawnListening(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Listening> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: not ready within 20 s: ${err.trim()}`));
    }, 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')}: exited before ready: ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
  // Drain stdout so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ----- a small keep-alive JSON client ---------------------------------------------------------

/** A JSON answer. */
interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers' shapes are the API's, read field by field
  json: any;
}

/** Keep-alive JSON over node:http (cheaper per request than fetch), one socket per request in flight. */
function jsonClient(port: number, token: string | undefined): { call(method: string, path: string, body?: unknown): Promise<Answer>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const baseHeaders: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    call(method, path, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = payload === undefined ? baseHeaders : { ...baseHeaders, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
      return new Promise<Answer>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers, agent, timeout: 30_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const status = res.statusCode ?? 0;
            if (status >= 400 && status !== 404) reject(new Error(`${method} ${path}: ${status} ${text.slice(0, 200)}`));
            else resolve({ status, json: text ? JSON.parse(text) : undefined });
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

const keyPath = (key: string): string => key.split('/').map(encodeURIComponent).join('/');
const seg = encodeURIComponent;

// ----- subjects ---------------------------------------------------------------------------------

/** The bench's `Subject` operations the server subjects have, plus what the wake and MCP cases use. */
export interface HttpBenchSubject {
  read(key: string): Promise<unknown>;
  write(key: string, value: unknown): Promise<void>;
  lockCycle?(resource: string, options: { wait: boolean }): Promise<void>;
  queueCycle?(name: string): Promise<void>;
  /** The server (absent on the bare route). */
  server?: { url: string; port: number; token: string; call(method: string, path: string, body?: unknown): Promise<Answer> };
  /** Another client on the same store, in the bench's process (the enqueuer/publisher of the wake cases). */
  library?: StateClient;
  close(): Promise<void>;
}

/**
 * Starts `agent-state serve --port 0` as a child process on `store` (a project.yml written under
 * the run's temp dir), a keep-alive client to it, and a library client on the same store.
 */
export async function openHttpSubject(store: BenchStoreRef): Promise<HttpBenchSubject> {
  const bin = agentStateBin();
  if (!existsSync(bin) || (bin.endsWith('agent-state.mjs') && !existsSync(join(bin, '..', '..', 'dist', 'bin.js')))) {
    throw new Error(`the agent-state CLI is not built at ${bin} (npm run build)`);
  }
  const dir = join(store.root, `serve-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  // JSON is YAML: the same config the bench's `ours` opens.
  writeFileSync(join(dir, 'project.yml'), `${JSON.stringify({ communication: benchConfigFor(store) }, null, 2)}\n`);
  const token = randomBytes(24).toString('base64url');
  const env: NodeJS.ProcessEnv = { ...process.env, AGENT_STATE_TOKEN: token };
  delete env['COMMUNICATION_BACKEND'];
  // AGENT_STATE_BENCH_SERVE=server: this package's own entry (dist/child.js: the same runServe the
  // CLI calls, on the workspace's backend builds), for a tree whose bundled CLI is older than them.
  const args = process.env['AGENT_STATE_BENCH_SERVE'] === 'server' ? [fileURLToPath(new URL('../dist/child.js', import.meta.url)), 'serve', JSON.stringify({ port: 0 })] : [bin, 'serve', '--port', '0'];
  const child = await spawnListening(args, { cwd: dir, env });
  const client = jsonClient(child.port, token);
  const library = await openState({ config: benchConfigFor(store), env: {} }).catch(async (error: unknown) => {
    client.close();
    await child.stop();
    throw error;
  });
  const call = client.call;
  return {
    server: { url: child.url, port: child.port, token, call },
    library,
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
      await call('POST', `/v1/queues/${seg(name)}/jobs`, { payload: { at: Date.now() } });
      const { status, json: job } = await call('POST', `/v1/queues/${seg(name)}/claim`, { leaseMs: 30_000 });
      if (status !== 200) throw new Error('claim found no job right after enqueue');
      await call('POST', `/v1/queues/${seg(name)}/jobs/${seg(job.id)}/ack`, { leaseId: job.leaseId });
    },
    async close() {
      client.close();
      await library.close().catch(() => undefined);
      await child.stop();
    },
  };
}

/** The bare Fastify route (bench-bare.ts) as a child process, and a keep-alive client to it. */
async function openBareSubject(): Promise<HttpBenchSubject> {
  // Next to this module in dist/; from src/ (the tests), the built one.
  const here = fileURLToPath(new URL('./bench-bare.js', import.meta.url));
  const script = existsSync(here) ? here : fileURLToPath(new URL('../dist/bench-bare.js', import.meta.url));
  const child = await spawnListening([script], {});
  const client = jsonClient(child.port, undefined);
  return {
    async read(key) {
      return (await client.call('GET', `/v1/keys/${keyPath(key)}`)).json.value;
    },
    async write(key, value) {
      await client.call('PUT', `/v1/keys/${keyPath(key)}`, { value });
    },
    async close() {
      client.close();
      await child.stop();
    },
  };
}

const HTTP_WORKLOADS = ['http-read', 'http-write', 'http-claim', 'mcp-claim', 'wake-claim', 'wake-sse'] as const;

/** agent-state through a real `agent-state serve` child process. */
export const httpSubject = {
  id: 'ours-http',
  kind: 'peer' as const,
  label: 'agent-state through `agent-state serve` (child process, HTTP/JSON on loopback, keep-alive)',
  capabilities: ['read', 'write', 'lockCycle', 'queueCycle'] as const,
  only: HTTP_WORKLOADS,
  open: openHttpSubject,
};

/** The HTTP floor: a bare Fastify route returning a constant, in its own process. */
export const bareHttpSubject = {
  id: 'http-bare',
  kind: 'raw' as const,
  label: 'a bare Fastify route returning a constant (child process, same client): the HTTP floor',
  capabilities: ['read', 'write'] as const,
  only: ['http-read', 'http-write'] as const,
  open: (_store: BenchStoreRef) => openBareSubject(),
};

// ----- workloads ------------------------------------------------------------------------------

/** Requests in flight of the HTTP cases (issue 16: 16 concurrent clients). */
export const HTTP_CLIENTS = 16;
const READ_KEY = 'bench/http/k';

/** The bench's `Subject` as these workloads see it (the bench's `ours` has `state`). */
interface AnySubject extends Partial<HttpBenchSubject> {
  state?: StateClient;
}

/** The bench's `Workload` shape, structurally. */
interface BenchWorkload {
  id: string;
  title: string;
  description: string;
  needs: readonly string[];
  subjects?: readonly string[];
  backends?: readonly BenchStoreRef['backend'][];
  axis(profile: unknown): { inflight: number; processes: number };
  setup?: { key: string; run(subject: AnySubject, profile: unknown): Promise<void> };
  prepare?(subject: AnySubject, ctx: { processIndex: number; seed: number }): Promise<{ op: (worker: number) => Promise<number | void>; teardown?: () => Promise<void> }>;
}

const SERVER_BACKENDS = ['file', 'sqlite', 'redis', 'postgres'] as const;
const WAKE_DEADLINE_MS = 5_000;

/** A wait with a deadline (every wait has one). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The MCP SDK's client over streamable HTTP, `count` sessions. */
async function mcpClients(server: NonNullable<HttpBenchSubject['server']>, count: number) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const clients = [];
  for (let i = 0; i < count; i++) {
    const client = new Client({ name: `bench-${i}`, version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } }));
    clients.push(client);
  }
  return clients;
}

/** A tool's JSON answer (text content); a tool error is thrown. */
function toolJson(result: unknown, tool: string): unknown {
  const r = result as { isError?: boolean; content?: { type: string; text: string }[] };
  const text = r.content?.[0]?.text ?? '';
  if (r.isError) throw new Error(`${tool}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** An SSE reader of one stream: resolves waiters by event id. */
async function sseFollower(server: NonNullable<HttpBenchSubject['server']>, path: string) {
  const abort = new AbortController();
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.token}`, accept: 'text/event-stream' }, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET ${path}: ${res.status}`);
  const waiters = new Map<number, (at: number) => void>();
  const arrived = new Map<number, number>();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const at = performance.now();
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(event);
          if (!id) continue;
          const seq = Number(id[1]);
          const waiter = waiters.get(seq);
          if (waiter) {
            waiters.delete(seq);
            waiter(at);
          } else arrived.set(seq, at);
        }
      }
    } catch {
      // Aborted on teardown.
    }
  })();
  return {
    /** performance.now() when event `seq` arrived. */
    arrival(seq: number): Promise<number> {
      const at = arrived.get(seq);
      if (at !== undefined) {
        arrived.delete(seq);
        return Promise.resolve(at);
      }
      return within(new Promise<number>((resolve) => waiters.set(seq, resolve)), WAKE_DEADLINE_MS, `SSE event ${seq}`);
    },
    close: () => abort.abort(),
  };
}

const SUBJECTS_KV = ['ours', 'ours-http', 'http-bare'];

/** The server's bench workloads. */
export const serverWorkloads: readonly BenchWorkload[] = [
  {
    id: 'http-read',
    title: 'HTTP: point reads, 16 clients',
    description: 'GET of one key through agent-state serve (child process), the library in process, and a bare Fastify route returning a constant; 16 requests in flight.',
    needs: ['read', 'write'],
    subjects: SUBJECTS_KV,
    backends: SERVER_BACKENDS,
    axis: () => ({ inflight: HTTP_CLIENTS, processes: 1 }),
    setup: {
      key: 'http-read',
      async run(subject) {
        await subject.write!(READ_KEY, { hello: 'http' });
      },
    },
    async prepare(subject) {
      return {
        op: async () => {
          await subject.read!(READ_KEY);
        },
      };
    },
  },
  {
    id: 'http-write',
    title: 'HTTP: writes, 16 clients',
    description: 'PUT of a small JSON value (one key per client) through agent-state serve, the library in process, and the bare Fastify route; 16 in flight.',
    needs: ['write'],
    subjects: SUBJECTS_KV,
    backends: SERVER_BACKENDS,
    axis: () => ({ inflight: HTTP_CLIENTS, processes: 1 }),
    async prepare(subject) {
      let n = 0;
      return {
        op: async (worker) => {
          await subject.write!(`bench/http/w/${worker}`, { n: n++ });
        },
      };
    },
  },
  {
    id: 'http-claim',
    title: 'HTTP: enqueue → claim → ack, 16 clients',
    description: 'One queue cycle per operation (three requests through the server), one queue per client, vs the library in process; 16 in flight.',
    needs: ['queueCycle'],
    subjects: ['ours', 'ours-http'],
    backends: SERVER_BACKENDS,
    axis: () => ({ inflight: HTTP_CLIENTS, processes: 1 }),
    async prepare(subject, ctx) {
      return {
        op: async (worker) => {
          await subject.queueCycle!(`bench-http-claim-${subject.server ? 'http' : 'lib'}-${ctx.seed}-${worker}`);
        },
      };
    },
  },
  {
    id: 'mcp-claim',
    title: 'MCP: task_claim over streamable HTTP, 16 clients',
    description: 'task_add, task_claim, task_done through the MCP SDK client over streamable HTTP (16 sessions, one queue each); the latency recorded is task_claim.',
    needs: ['queueCycle'],
    subjects: ['ours-http'],
    backends: SERVER_BACKENDS,
    axis: () => ({ inflight: HTTP_CLIENTS, processes: 1 }),
    async prepare(subject) {
      if (!subject.server) throw new Error('mcp-claim needs the server subject');
      const clients = await mcpClients(subject.server, HTTP_CLIENTS);
      return {
        op: async (worker) => {
          const client = clients[worker % clients.length]!;
          const queue = `bench-mcp-${worker}`;
          const agent_id = `bench-agent-${worker}`;
          toolJson(await client.callTool({ name: 'task_add', arguments: { agent_id, queue, payload: { worker } } }), 'task_add');
          const t0 = performance.now();
          const job = toolJson(await client.callTool({ name: 'task_claim', arguments: { agent_id, queue, lease_ms: 30_000 } }), 'task_claim') as { id: string; leaseId: string } | null;
          const claimMs = performance.now() - t0;
          if (!job) throw new Error('task_claim found no task right after task_add');
          toolJson(await client.callTool({ name: 'task_done', arguments: { agent_id, queue, id: job.id, lease_id: job.leaseId } }), 'task_done');
          return claimMs;
        },
        teardown: async () => {
          await Promise.allSettled(clients.map((c) => c.close()));
        },
      };
    },
  },
  {
    id: 'wake-claim',
    title: 'Wake: blocked claim woken by an enqueue',
    description:
      'A claim blocked on an empty queue (HTTP claim with waitMs on the server; dequeue({ waitMs }) in process) and an enqueue by another client (the library in the bench process); latency = enqueue resolved → claim answered.',
    needs: ['queueCycle'],
    subjects: ['ours', 'ours-http'],
    backends: SERVER_BACKENDS,
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject, ctx) {
      const enqueuer = subject.library ?? subject.state;
      if (!enqueuer) throw new Error('wake-claim needs a library client');
      let n = 0;
      return {
        op: async () => {
          const queue = `bench-wake-${subject.server ? 'http' : 'lib'}-${ctx.seed}-${n++}`;
          const claimed = subject.server
            ? subject.server.call('POST', `/v1/queues/${seg(queue)}/claim`, { leaseMs: 30_000, waitMs: WAKE_DEADLINE_MS }).then((r) => {
                if (r.status !== 200) throw new Error(`blocked claim answered ${r.status}`);
                return { at: performance.now(), id: r.json.id as string, leaseId: r.json.leaseId as string };
              })
            : subject.state!.queue(queue).dequeue({ leaseMs: 30_000, waitMs: WAKE_DEADLINE_MS }).then((job) => {
                if (!job) throw new Error('blocked dequeue woke with nothing');
                return { at: performance.now(), id: job.id, leaseId: job.leaseId };
              });
          // Let the claim reach its wait (it found the queue empty) before the enqueue.
          await pause(3);
          await enqueuer.queue(queue).enqueue({ n });
          const landed = performance.now();
          const job = await within(claimed, WAKE_DEADLINE_MS + 1_000, 'blocked claim');
          await enqueuer.queue(queue).ack(job.id, job.leaseId);
          return Math.max(0, job.at - landed);
        },
      };
    },
  },
  {
    id: 'wake-sse',
    title: 'Wake: SSE subscriber woken by a publish',
    description:
      'A subscriber of one channel (the server\'s GET /v1/channels/{name}/events stream; state.subscribe in process) and a publish by another client (the library in the bench process); latency = publish resolved → message arrived.',
    needs: ['queueCycle'],
    subjects: ['ours', 'ours-http'],
    backends: SERVER_BACKENDS,
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject, ctx) {
      const publisher = subject.library ?? subject.state;
      if (!publisher) throw new Error('wake-sse needs a library client');
      const channel = `bench-wake-sse-${ctx.seed}-${subject.server ? 'http' : 'lib'}`;
      let arrival: (seq: number) => Promise<number>;
      let close: () => Promise<void> | void;
      if (subject.server) {
        const follower = await sseFollower(subject.server, `/v1/channels/${seg(channel)}/events`);
        arrival = (seq) => follower.arrival(seq);
        close = () => follower.close();
      } else {
        const waiters = new Map<number, (at: number) => void>();
        const arrived = new Map<number, number>();
        const sub = await subject.state!.subscribe(channel, (message) => {
          const at = performance.now();
          const seq = (message as { seq: number }).seq;
          const waiter = waiters.get(seq);
          if (waiter) {
            waiters.delete(seq);
            waiter(at);
          } else arrived.set(seq, at);
        });
        arrival = (seq) => {
          const at = arrived.get(seq);
          if (at !== undefined) {
            arrived.delete(seq);
            return Promise.resolve(at);
          }
          return within(new Promise<number>((resolve) => waiters.set(seq, resolve)), WAKE_DEADLINE_MS, `message ${seq}`);
        };
        close = () => sub.close();
      }
      let n = 0;
      return {
        op: async () => {
          const seq = n++;
          const { sequence } = await publisher.publish(channel, { seq } as JsonValue);
          const landed = performance.now();
          // The server's stream is keyed by the channel's sequence; in process by our own counter.
          const at = await arrival(subject.server ? sequence : seq);
          return Math.max(0, at - landed);
        },
        teardown: async () => {
          await close();
        },
      };
    },
  },
];

/** Per backend, the subjects the bench adds (its own `ours` is the in-process side). */
export const serverSubjects: Record<(typeof SERVER_BACKENDS)[number], readonly (typeof httpSubject | typeof bareHttpSubject)[]> = {
  file: [httpSubject, bareHttpSubject],
  sqlite: [httpSubject, bareHttpSubject],
  redis: [httpSubject, bareHttpSubject],
  postgres: [httpSubject, bareHttpSubject],
};

/** The `--extra` module shape: `workloads` and `subjects`. */
export { serverWorkloads as workloads, serverSubjects as subjects };
