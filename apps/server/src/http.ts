/**
 * The HTTP API of server.md on Fastify: one schema per route, one error handler mapping codes to
 * statuses, token auth and the Host check in one `onRequest` hook (before any body is read), SSE
 * for channels and logs, blocking claims and waits as plain awaits (no thread held).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  ConflictError,
  InvalidKeyError,
  InvalidValueError,
  assertKey,
  assertPrefix,
  assertSegment,
  type JsonValue,
  type StateClient,
} from '@agent-state/core';
import { HttpError, toWire } from './errors.js';
import { Metrics } from './metrics.js';
import { Ops, parseFence } from './ops.js';
import { bearer, tokenMatches } from './token.js';
import { handleMcpHttp, McpContext } from './mcp.js';
import { cookieToken, isDashboardPath, registerDashboard } from './dashboard.js';

/** Options of {@link buildApp}. */
export interface AppOptions {
  token: string;
  /** Extra Host names accepted besides localhost, 127.0.0.1 and [::1]. */
  allowHosts?: string[];
  /** Interval of the SSE `: ping` comment; default 15 000 ms. */
  pingMs?: number;
  /** Upper bound of any wait a request asks for (claims, key waits, mailbox waits); default 300 000 ms. */
  maxWaitMs?: number;
  /** Dashboard actions (retry/delete a dead letter, force-release a lock); default false. */
  dashboardActions?: boolean;
  /** How often the dashboard's stream sends a new picture; default 1000 ms. */
  dashboardIntervalMs?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const MAX_TX_BODY = 64 * 1024 * 1024;
const SLACK = 64 * 1024;

/** Everything a running app holds, so a graceful stop can end it. */
export interface App {
  fastify: FastifyInstance;
  ops: Ops;
  /** Aborts every blocking wait and ends every SSE stream (called on stop). */
  abortAll(): void;
}

function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const i = host.lastIndexOf(':');
  return (i >= 0 ? host.slice(0, i) : host).toLowerCase();
}

type Timed = FastifyRequest & { startedAt: number };

/** The path of a request URL, without its query string. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The key in `/v1/keys/<seg>/<seg>…` (or `/v1/locks/…`), each segment URL-decoded. */
function pathKey(req: FastifyRequest, prefix: string, field: string): string {
  const rest = pathOf(req.raw.url).slice(prefix.length);
  let key = rest;
  // Only a `%` needs decoding (segment by segment, so an encoded `/` stays inside its segment).
  if (rest.includes('%')) {
    try {
      key = rest.split('/').map((s) => decodeURIComponent(s)).join('/');
    } catch {
      throw new InvalidKeyError(field, rest, 'expected URL-encoded key segments');
    }
  }
  assertKey(key, field);
  return key;
}

function segment(value: unknown, field: string): string {
  assertSegment(value, field);
  return value;
}

/** A whole number from a query string, or undefined; typed error naming the field otherwise. */
function intQuery(value: unknown, field: string, min = 0): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidValueError(field, value, `expected a whole number ≥ ${min}`);
  return n;
}

/** `?token=` of a URL (the dashboard's first visit). */
function queryToken(url: string | undefined): string | undefined {
  const q = (url ?? '').split('?')[1];
  return q === undefined ? undefined : (new URLSearchParams(q).get('token') ?? undefined);
}

/** Aborted when the client goes away or the server stops. */
function requestSignal(req: FastifyRequest, reply: FastifyReply, stopping: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort();
  // The response's 'close' fires when it was sent or the connection went away (the request's
  // own 'close' fires as soon as its body was read, so it cannot tell).
  reply.raw.once('close', abort);
  if (stopping.aborted) controller.abort();
  else stopping.addEventListener('abort', abort, { once: true });
  controller.signal.addEventListener('abort', () => stopping.removeEventListener('abort', abort), { once: true });
  return controller.signal;
}

const obj = (properties: Record<string, object>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});
const int = { type: 'integer', minimum: 0 };
const pos = { type: 'number', exclusiveMinimum: 0 };
const fenceSchema = obj({ resource: { type: 'string' }, token: { type: 'integer' }, owner: { type: 'string' }, expiresAt: { type: 'number' } }, ['resource', 'token', 'owner']);
const anyJson = {};
const priority = { anyOf: [{ type: 'integer' }, { type: 'string', enum: ['high', 'normal', 'low'] }] };

/** Builds the Fastify app over `state` (not listening yet). */
export function buildApp(state: StateClient, options: AppOptions): App {
  const maxValueBytes = state.config.maxValueBytes;
  const bodyLimit = 2 * maxValueBytes + SLACK;
  const pingMs = options.pingMs ?? 15_000;
  const maxWaitMs = options.maxWaitMs ?? 300_000;
  const allowed = new Set([...LOOPBACK, ...(options.allowHosts ?? []).map((h) => h.toLowerCase())]);
  const ops = new Ops(state);
  const metrics = new Metrics(state);
  const stopping = new AbortController();
  const mcp = new McpContext(ops);

  const fastify = Fastify({
    bodyLimit,
    logger: false,
    // Type errors are refused, not coerced: `"5"` is not a ttl.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Idle keep-alive connections are closed on stop; requests in flight are finished.
    forceCloseConnections: 'idle',
    // Requests that arrive on a kept-alive connection while stopping get our own 503 (below).
    return503OnClosing: false,
  });

  const wait = (ms: number | undefined, field: string): number | undefined => {
    if (ms === undefined) return undefined;
    if (ms > maxWaitMs) throw new InvalidValueError(field, ms, `expected at most ${maxWaitMs} ms`);
    return ms;
  };

  // The three hooks below run on every request: callback style and synchronous (an async hook
  // costs a promise and a microtask hop each, which a bare route does not pay).
  // When the request came in, for the latency metric: a decorated field (same shape for every request).
  fastify.decorateRequest('startedAt', 0);

  /** The Host check and the token, before any body is read; null when the request may go on. */
  const admit = (req: FastifyRequest): HttpError | null => {
    const host = hostName(req.headers.host);
    if (!host || !allowed.has(host)) return new HttpError('FORBIDDEN', `Host ${JSON.stringify(req.headers.host ?? '')} is not allowed (use --allow-host)`);
    const path = pathOf(req.raw.url);
    if (req.method === 'GET' && path === '/health') return null;
    // The dashboard: a `?token=` on the page (checked itself, so a wrong one never replaces a
    // good cookie), else the cookie it set.
    const given = bearer(req.headers.authorization) ?? (isDashboardPath(path) ? ((path === '/' && req.method === 'GET' ? queryToken(req.raw.url) : undefined) ?? cookieToken(req)) : undefined);
    if (!tokenMatches(options.token, given)) return new HttpError('UNAUTHORIZED', 'missing or wrong bearer token');
    if (stopping.signal.aborted) return new HttpError('STATE_CLOSED', 'the server is stopping');
    return null;
  };

  fastify.addHook('onRequest', (req, _reply, done) => {
    (req as Timed).startedAt = performance.now();
    let refused: Error | null;
    try {
      refused = admit(req);
    } catch (error) {
      refused = error as Error;
    }
    done(refused ?? undefined);
  });

  // A POST without a body validates as {} (then `required` names what is missing).
  fastify.addHook('preValidation', (req, _reply, done) => {
    if (req.body === undefined && (req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE')) req.body = {};
    done();
  });

  fastify.addHook('onResponse', (req, reply, done) => {
    const t0 = (req as Timed).startedAt;
    if (t0 > 0) metrics.observe(req.routeOptions.url ?? 'unknown', req.method, reply.statusCode, performance.now() - t0);
    done();
  });

  fastify.setErrorHandler(async (error, _req, reply) => {
    const { status, body } = toWire(error);
    return reply.status(status).send(body);
  });
  fastify.setNotFoundHandler(async (req, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${(req.raw.url ?? '').split('?')[0]}` } }),
  );

  // ----- keys -------------------------------------------------------------------------------

  fastify.get('/v1/keys/*', {
    schema: { querystring: obj({ wait: { type: 'string', enum: ['1', 'true'] }, minVersion: { type: 'string' }, timeoutMs: { type: 'string' } }) },
  }, async (req, reply) => {
    const key = pathKey(req, '/v1/keys/', 'key');
    const q = req.query as Record<string, string | undefined>;
    if (q['wait'] !== undefined) {
      const minVersion = intQuery(q['minVersion'], 'minVersion', 1);
      const timeoutMs = wait(intQuery(q['timeoutMs'], 'timeoutMs') ?? 30_000, 'timeoutMs') as number;
      return ops.waitFor(key, minVersion, timeoutMs, requestSignal(req, reply, stopping.signal));
    }
    const entry = await state.read(key);
    if (!entry) throw new HttpError('NOT_FOUND', `no key ${JSON.stringify(key)}`);
    return entry;
  });

  fastify.put('/v1/keys/*', {
    schema: { body: obj({ value: anyJson, ifVersion: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: ['absent'] }] }, ttlMs: pos, fence: fenceSchema }, ['value']) },
  }, async (req) => {
    const key = pathKey(req, '/v1/keys/', 'key');
    const b = req.body as { value: JsonValue; ifVersion?: number | 'absent'; ttlMs?: number; fence?: unknown };
    if (b.ifVersion === undefined && b.ttlMs === undefined && b.fence === undefined) return state.write(key, b.value);
    return state.write(key, b.value, {
      ...(b.ifVersion !== undefined && { ifVersion: b.ifVersion }),
      ...(b.ttlMs !== undefined && { ttlMs: b.ttlMs }),
      ...(b.fence !== undefined && { fence: parseFence(b.fence, 'fence') }),
    });
  });

  fastify.delete('/v1/keys/*', { schema: { querystring: obj({ ifVersion: { type: 'string' } }) } }, async (req) => {
    const key = pathKey(req, '/v1/keys/', 'key');
    const raw = (req.query as { ifVersion?: string }).ifVersion;
    const ifVersion = raw === 'absent' ? 'absent' : intQuery(raw, 'ifVersion', 1);
    return { deleted: await state.delete(key, ifVersion === undefined ? undefined : { ifVersion }) };
  });

  fastify.post('/v1/keys/*', {
    schema: { querystring: obj({ op: { type: 'string' } }, ['op']), body: obj({ by: { type: 'number' } }) },
  }, async (req) => {
    const key = pathKey(req, '/v1/keys/', 'key');
    const op = (req.query as { op: string }).op;
    if (op !== 'increment') throw new InvalidValueError('op', op, 'expected increment');
    const by = (req.body as { by?: number } | undefined)?.by ?? 1;
    return { value: await state.increment(key, by) };
  });

  fastify.get('/v1/keys', {
    schema: { querystring: obj({ prefix: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } }) },
  }, async (req) => {
    const q = req.query as { prefix?: string; after?: string; limit?: string };
    const limit = intQuery(q.limit, 'limit', 1) ?? 100;
    if (limit > 1000) throw new InvalidValueError('limit', limit, 'expected at most 1000');
    if (q.prefix !== undefined && q.prefix !== '') assertPrefix(q.prefix, 'prefix');
    if (q.after !== undefined) assertPrefix(q.after, 'after');
    const entries = [];
    for await (const e of state.list({ limit: limit + 1, ...(q.prefix && { prefix: q.prefix }), ...(q.after !== undefined && { after: q.after }) })) entries.push(e);
    const more = entries.length > limit;
    if (more) entries.length = limit;
    return { entries, ...(more && { next: entries[entries.length - 1]?.key }) };
  });

  // ----- locks ------------------------------------------------------------------------------

  fastify.post('/v1/locks', {
    schema: { body: obj({ resources: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string' } }, ttlMs: pos, waitMs: int }, ['resources']) },
  }, async (req) => {
    const b = req.body as { resources: string[]; ttlMs?: number; waitMs?: number };
    const waitMs = wait(b.waitMs, 'waitMs');
    return { locks: await ops.lockMany(b.resources, { ...(b.ttlMs !== undefined && { ttlMs: b.ttlMs }), ...(waitMs !== undefined && { waitMs }) }) };
  });

  fastify.post('/v1/locks/*', {
    schema: {
      querystring: obj({ op: { type: 'string' } }),
      body: obj({ ttlMs: pos, waitMs: int, token: { type: 'integer' }, owner: { type: 'string' }, expiresAt: { type: 'number' } }),
    },
  }, async (req) => {
    const resource = pathKey(req, '/v1/locks/', 'resource');
    const op = (req.query as { op?: string }).op;
    const b = (req.body ?? {}) as { ttlMs?: number; waitMs?: number; token?: number; owner?: string };
    if (op === 'extend') {
      if (b.ttlMs === undefined) throw new InvalidValueError('ttlMs', undefined, 'expected a positive number of ms');
      return ops.extend(parseFence({ ...b, resource }, 'lease'), b.ttlMs);
    }
    if (op !== undefined) throw new InvalidValueError('op', op, 'expected extend (or no op to acquire)');
    const waitMs = wait(b.waitMs, 'waitMs');
    return ops.lock(resource, { ...(b.ttlMs !== undefined && { ttlMs: b.ttlMs }), ...(waitMs !== undefined && { waitMs }) });
  });

  fastify.delete('/v1/locks/*', {
    schema: { body: obj({ token: { type: 'integer' }, owner: { type: 'string' }, expiresAt: { type: 'number' } }, ['token', 'owner']) },
  }, async (req) => {
    const resource = pathKey(req, '/v1/locks/', 'resource');
    await ops.release(parseFence({ ...(req.body as object), resource }, 'lease'));
    return { released: true };
  });

  // ----- transactions -----------------------------------------------------------------------

  fastify.post('/v1/transactions', {
    bodyLimit: MAX_TX_BODY,
    schema: {
      body: obj({
        reads: { type: 'array', maxItems: 10_000, items: obj({ key: { type: 'string' }, version: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] } }, ['key', 'version']) },
        writes: {
          type: 'array',
          maxItems: 10_000,
          items: obj({ key: { type: 'string' }, value: anyJson, ttlMs: pos, delete: { type: 'boolean', enum: [true] } }, ['key']),
        },
      }),
    },
  }, async (req) => {
    const b = req.body as { reads?: { key: string; version: number | null }[]; writes?: { key: string; value?: JsonValue; ttlMs?: number; delete?: true }[] };
    const reads = b.reads ?? [];
    const writes = b.writes ?? [];
    const values = writes.filter((w) => !w.delete).length;
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > Math.min(MAX_TX_BODY, Math.max(1, values) * maxValueBytes + SLACK)) throw new HttpError('TOO_LARGE', `transaction body of ${length} bytes for ${values} values`);
    reads.forEach((r, i) => assertKey(r.key, `reads[${i}].key`));
    writes.forEach((w, i) => {
      assertKey(w.key, `writes[${i}].key`);
      if (w.delete && (w.value !== undefined || w.ttlMs !== undefined)) throw new InvalidValueError(`writes[${i}]`, w, 'a delete takes no value or ttlMs');
      if (!w.delete && !('value' in w)) throw new InvalidValueError(`writes[${i}].value`, undefined, 'expected a value (or delete: true)');
    });
    const tx = await state.begin();
    try {
      for (const r of reads) {
        const seen = await tx.read(r.key);
        const version = seen?.version ?? null;
        if (version !== r.version) throw new ConflictError(r.key, r.version ?? 'absent', version ?? 'absent');
      }
      for (const w of writes) {
        if (w.delete) tx.delete(w.key);
        else tx.write(w.key, w.value as JsonValue, w.ttlMs === undefined ? undefined : { ttlMs: w.ttlMs });
      }
      await tx.commit();
    } catch (error) {
      await tx.rollback().catch(() => undefined);
      throw error;
    }
    return { committed: true };
  });

  // ----- queues -----------------------------------------------------------------------------

  fastify.post('/v1/queues/:name/jobs', {
    schema: { body: obj({ payload: anyJson, priority, delayMs: int }, ['payload']) },
  }, async (req, reply) => {
    const name = segment((req.params as { name: string }).name, 'queue');
    const b = req.body as { payload: JsonValue; priority?: number | 'high' | 'normal' | 'low'; delayMs?: number };
    const job = await state.queue(name).enqueue(b.payload, { ...(b.priority !== undefined && { priority: b.priority }), ...(b.delayMs !== undefined && { delayMs: b.delayMs }) });
    return reply.status(201).send(job);
  });

  fastify.post('/v1/queues/:name/claim', { schema: { body: obj({ leaseMs: pos, waitMs: int }) } }, async (req, reply) => {
    const name = segment((req.params as { name: string }).name, 'queue');
    const b = (req.body ?? {}) as { leaseMs?: number; waitMs?: number };
    const waitMs = wait(b.waitMs, 'waitMs');
    const job = await ops.claim(name, { ...(b.leaseMs !== undefined && { leaseMs: b.leaseMs }), ...(waitMs !== undefined && { waitMs }), signal: requestSignal(req, reply, stopping.signal) });
    if (!job) return reply.status(204).send();
    return job;
  });

  fastify.post('/v1/queues/:name/jobs/:id/ack', { schema: { body: obj({ leaseId: { type: 'string' } }, ['leaseId']) } }, async (req) => {
    const p = req.params as { name: string; id: string };
    return { acked: await ops.settle(segment(p.name, 'queue'), p.id, (req.body as { leaseId: string }).leaseId, { kind: 'ack' }) };
  });

  fastify.post('/v1/queues/:name/jobs/:id/nack', { schema: { body: obj({ leaseId: { type: 'string' }, delayMs: int }, ['leaseId']) } }, async (req) => {
    const p = req.params as { name: string; id: string };
    const b = req.body as { leaseId: string; delayMs?: number };
    return { nacked: await ops.settle(segment(p.name, 'queue'), p.id, b.leaseId, { kind: 'nack', ...(b.delayMs !== undefined && { delayMs: b.delayMs }) }) };
  });

  fastify.get('/v1/queues/:name', async (req) => ops.queueInfo(segment((req.params as { name: string }).name, 'queue')));

  // ----- channels ---------------------------------------------------------------------------

  fastify.post('/v1/channels/:name/messages', { schema: { body: obj({ message: anyJson }, ['message']) } }, async (req, reply) => {
    const name = segment((req.params as { name: string }).name, 'channel');
    return reply.status(201).send(await state.publish(name, (req.body as { message: JsonValue }).message));
  });

  const streams = new Set<() => void>();

  /** Starts an SSE response; returns `send(id, data)` and the signal that ends it. */
  function openStream(req: FastifyRequest, reply: FastifyReply): { send: (id: number, data: unknown) => void; end: () => void; signal: AbortSignal } {
    const signal = requestSignal(req, reply, stopping.signal);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'close', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    const ping = setInterval(() => res.write(': ping\n\n'), pingMs);
    const end = () => {
      clearInterval(ping);
      streams.delete(end);
      if (!res.writableEnded) res.end();
      // An SSE connection is never reused: close it so it cannot hold up a stop.
      res.once('finish', () => res.socket?.destroySoon());
    };
    streams.add(end);
    signal.addEventListener('abort', end, { once: true });
    return { send: (id, data) => void res.write(`id: ${id}\ndata: ${JSON.stringify(data)}\n\n`), end, signal };
  }

  const lastEventId = (req: FastifyRequest): number | undefined => {
    const header = req.headers['last-event-id'];
    const q = (req.query as { after?: string }).after;
    return intQuery(typeof header === 'string' && header !== '' ? header : q, 'Last-Event-ID');
  };

  fastify.get('/v1/channels/:name/events', { schema: { querystring: obj({ after: { type: 'string' } }) } }, async (req, reply) => {
    const name = segment((req.params as { name: string }).name, 'channel');
    const after = lastEventId(req);
    // Subscribe before the stream opens, so a subscribe error is a plain JSON error.
    // Assigned once the stream opens; read by the callbacks before that.
    // eslint-disable-next-line prefer-const
    let send: ((id: number, data: unknown) => void) | undefined;
    // eslint-disable-next-line prefer-const
    let end: (() => void) | undefined;
    let failed = false;
    const buffered: { sequence: number; message: JsonValue; publishedAt: number }[] = [];
    const stop = await ops.subscribe(
      name,
      after,
      (m) => (send ? send(m.sequence, m) : buffered.push(m)),
      () => {
        failed = true;
        end?.(); // the subscription failed (backend gone): end the stream, the client resumes with Last-Event-ID
      },
    );
    const stream = openStream(req, reply);
    send = stream.send;
    end = stream.end;
    for (const m of buffered) send(m.sequence, m);
    if (failed) stream.end();
    stream.signal.addEventListener('abort', () => void stop().catch(() => undefined), { once: true });
  });

  // ----- logs -------------------------------------------------------------------------------

  fastify.post('/v1/logs/:name/records', { schema: { body: obj({ record: anyJson }, ['record']) } }, async (req, reply) => {
    const name = segment((req.params as { name: string }).name, 'log');
    return reply.status(201).send(await ops.append(name, (req.body as { record: JsonValue }).record));
  });

  fastify.get('/v1/logs/:name/records', { schema: { querystring: obj({ after: { type: 'string' }, limit: { type: 'string' } }) } }, async (req) => {
    const name = segment((req.params as { name: string }).name, 'log');
    const q = req.query as { after?: string; limit?: string };
    const limit = intQuery(q.limit, 'limit', 1) ?? 100;
    if (limit > 1000) throw new InvalidValueError('limit', limit, 'expected at most 1000');
    return { records: await ops.readLog(name, intQuery(q.after, 'after') ?? 0, limit) };
  });

  fastify.get('/v1/logs/:name/events', { schema: { querystring: obj({ after: { type: 'string' } }) } }, async (req, reply) => {
    const name = segment((req.params as { name: string }).name, 'log');
    const after = lastEventId(req);
    const stream = openStream(req, reply);
    void ops.followLog(name, after, stream.signal, (r) => stream.send(r.seq, r)).then(stream.end, stream.end);
  });

  // ----- agents and mailboxes ---------------------------------------------------------------

  fastify.put('/v1/agents/:id', { schema: { body: obj({ info: anyJson, heartbeatIntervalMs: pos }) } }, async (req) => {
    const id = segment((req.params as { id: string }).id, 'agentId');
    const b = (req.body ?? {}) as { info?: JsonValue; heartbeatIntervalMs?: number };
    await state.agents.register(id, b.info ?? {}, b.heartbeatIntervalMs === undefined ? undefined : { heartbeatIntervalMs: b.heartbeatIntervalMs });
    return { registered: true, agentId: id };
  });

  fastify.post('/v1/agents/:id/heartbeat', { schema: { body: obj({ metrics: anyJson }) } }, async (req) => {
    const id = segment((req.params as { id: string }).id, 'agentId');
    await state.agents.heartbeat(id, ((req.body ?? {}) as { metrics?: JsonValue }).metrics ?? null);
    return { ok: true };
  });

  fastify.get('/v1/agents', async () => ({
    agents: (await state.agents.list()).map((a) => ({ agentId: a.agentId, info: a.info, metrics: a.metrics, lastHeartbeat: a.lastHeartbeat, status: a.status })),
  }));

  fastify.post('/v1/mailboxes/:from/messages', { schema: { body: obj({ to: { type: 'string' }, message: anyJson, priority }, ['to', 'message']) } }, async (req, reply) => {
    const from = segment((req.params as { from: string }).from, 'from');
    const b = req.body as { to: string; message: JsonValue; priority?: number | 'high' | 'normal' | 'low' };
    const ids = await state.mailbox(from).send(b.to, b.message, b.priority === undefined ? undefined : { priority: b.priority });
    return reply.status(201).send({ ids });
  });

  fastify.get('/v1/mailboxes/:agentId/messages', { schema: { querystring: obj({ from: { type: 'string' }, limit: { type: 'string' }, waitMs: { type: 'string' } }) } }, async (req, reply) => {
    const agentId = segment((req.params as { agentId: string }).agentId, 'agentId');
    const q = req.query as { from?: string; limit?: string; waitMs?: string };
    const limit = intQuery(q.limit, 'limit', 1);
    const waitMs = wait(intQuery(q.waitMs, 'waitMs'), 'waitMs');
    const messages = await ops.receive(agentId, {
      ...(q.from !== undefined && { from: q.from }),
      ...(limit !== undefined && { limit }),
      ...(waitMs !== undefined && { waitMs }),
      signal: requestSignal(req, reply, stopping.signal),
    });
    return { messages };
  });

  fastify.post('/v1/mailboxes/:agentId/ack', { schema: { body: obj({ ids: { type: 'array', maxItems: 10_000, items: { type: 'string' } } }, ['ids']) } }, async (req) => {
    const agentId = segment((req.params as { agentId: string }).agentId, 'agentId');
    return { acked: await ops.ack(agentId, (req.body as { ids: string[] }).ids) };
  });

  // ----- health, metrics, MCP ---------------------------------------------------------------

  fastify.get('/health', async (_req, reply) => {
    try {
      const h = await state.health();
      return reply.status(h.ok ? 200 : 503).send({ ok: h.ok, backend: h.backend });
    } catch {
      return reply.status(503).send({ ok: false, backend: state.backendName });
    }
  });

  fastify.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));

  registerDashboard(fastify, state, {
    actions: options.dashboardActions === true,
    intervalMs: options.dashboardIntervalMs ?? 1000,
    stopping: stopping.signal,
    track: (end) => {
      streams.add(end);
      return () => streams.delete(end);
    },
  });

  for (const method of ['POST', 'GET', 'DELETE'] as const) {
    fastify.route({ method, url: '/mcp', handler: async (req, reply) => handleMcpHttp(mcp, req, reply) });
  }

  return {
    fastify,
    ops,
    abortAll: () => {
      stopping.abort();
      for (const end of [...streams]) end();
    },
  };
}
