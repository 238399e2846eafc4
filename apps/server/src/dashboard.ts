/**
 * The dashboard (server.md "Dashboard"): `GET /` serves one static page (vanilla JS, no build
 * step); `GET /dashboard/events` streams a {@link Snapshot} every `intervalMs` over SSE;
 * `GET /dashboard/snapshot` is the same picture once. With `--dashboard-actions`,
 * `POST /dashboard/actions/{retry-dead,delete-dead,release-lock}` act, each written to the
 * `audit` log; without it they are 403 `FORBIDDEN` and the page offers no button.
 *
 * Auth: `GET /?token=…` once sets an HttpOnly SameSite=Strict cookie and redirects to `/`; the
 * page and its streams then use the cookie (the bearer header works too).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditActor, auditLock, audit, families, InvalidValueError, metricsOf, assertSegment, assertKey, type StateClient } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';
import { HttpError } from './errors.js';
import { SnapshotTaker, type Snapshot } from './snapshot.js';

export const DASHBOARD_COOKIE = 'agent_state_token';

let page: string | undefined;
/** The page: next to this module's package, or (inside the CLI's bundle) through the package's export. */
function dashboardPage(): string {
  if (page !== undefined) return page;
  const near = fileURLToPath(new URL('../static/dashboard.html', import.meta.url));
  const file = existsSync(near) ? near : createRequire(import.meta.url).resolve('@agent-state/server/static/dashboard.html');
  return (page = readFileSync(file, 'utf8'));
}

/** The token in the dashboard cookie, if any. */
export function cookieToken(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === DASHBOARD_COOKIE) {
      try {
        return decodeURIComponent(rest.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Paths the cookie authorizes (the page and its own calls). */
export const isDashboardPath = (path: string) => path === '/' || path.startsWith('/dashboard/');

export interface DashboardOptions {
  actions: boolean;
  intervalMs: number;
  /** Aborted when the server stops: ends the streams. */
  stopping: AbortSignal;
  /** Registers a stream's end function with the app (so stop can end it). */
  track: (end: () => void) => () => void;
}

export function registerDashboard(fastify: FastifyInstance, state: StateClient, options: DashboardOptions): void {
  const taker = new SnapshotTaker(state, { actions: options.actions });
  let last: { at: number; snapshot: Promise<Snapshot> } | undefined;
  // One picture per interval however many pages are open.
  const picture = (): Promise<Snapshot> => {
    const now = Date.now();
    if (last && now - last.at < options.intervalMs * 0.9) return last.snapshot;
    const snapshot = taker.take();
    last = { at: now, snapshot };
    snapshot.catch(() => {
      if (last?.snapshot === snapshot) last = undefined;
    });
    return snapshot;
  };

  fastify.get('/', async (req, reply) => {
    const token = (req.query as { token?: string }).token;
    if (token !== undefined) {
      // The hook checked the token already; move it into the cookie and drop it from the URL.
      return reply
        .header('set-cookie', `${DASHBOARD_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
        .redirect('/', 303);
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
      .header('x-frame-options', 'DENY')
      .send(dashboardPage());
  });

  fastify.get('/dashboard/snapshot', async () => picture());

  fastify.get('/dashboard/events', async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'close', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      untrack();
      if (!res.writableEnded) res.end();
      res.once('finish', () => res.socket?.destroySoon());
    };
    const untrack = options.track(end);
    res.once('close', end);
    const tick = async () => {
      if (ended) return;
      try {
        res.write(`data: ${JSON.stringify(await picture())}\n\n`);
      } catch (error) {
        res.write(`event: problem\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
      }
      if (!ended) timer = setTimeout(() => void tick(), options.intervalMs);
    };
    void tick();
  });

  const allowed = () => {
    if (!options.actions) throw new HttpError('FORBIDDEN', 'dashboard actions are off (start the server with --dashboard-actions)');
  };
  const body = { type: 'object', additionalProperties: false, properties: { queue: { type: 'string' }, id: { type: 'string' } }, required: ['queue', 'id'] };
  const who = (req: FastifyRequest) => ({ ...auditActor(`dashboard@${req.ip}`), pid: process.pid });

  for (const action of ['retry-dead', 'delete-dead'] as const) {
    fastify.post(`/dashboard/actions/${action}`, { schema: { body } }, async (req) => {
      allowed();
      const { queue, id } = req.body as { queue: string; id: string };
      assertSegment(queue, 'queue');
      const before = (await families(state).queues.jobs(queue, { state: 'dead', limit: 1000 })).find((j) => j.id === id);
      if (!before) throw new HttpError('NOT_FOUND', `no dead letter ${JSON.stringify(id)} in queue ${JSON.stringify(queue)}`);
      const q = state.queue(queue);
      const done = action === 'retry-dead' ? await q.retryDead(id) : await q.deleteDead(id);
      if (!done) throw new HttpError('NOT_FOUND', `no dead letter ${JSON.stringify(id)} in queue ${JSON.stringify(queue)}`);
      await audit(state, action === 'retry-dead' ? 'queue.retry-dead' : 'queue.delete-dead', `${queue}/${id}`, {
        who: who(req),
        before: { state: 'dead', attempts: before.attempts, payload: before.json },
        after: action === 'retry-dead' ? { state: 'waiting', attempts: 0 } : null,
        via: 'dashboard',
      });
      return { done: true };
    });
  }

  fastify.post('/dashboard/actions/release-lock', {
    schema: { body: { type: 'object', additionalProperties: false, properties: { resource: { type: 'string' }, token: { type: 'integer' } }, required: ['resource', 'token'] } },
  }, async (req) => {
    allowed();
    const { resource, token } = req.body as { resource: string; token: number };
    assertKey(resource, 'resource');
    // Any holder's lease when the backend lists them (the page shows them all), else this server's.
    const backend = backendOf(state);
    const listLocks = backend.listLocks?.bind(backend);
    const held = listLocks ? (await listLocks()).find((l) => l.resource === resource) : metricsOf(state)?.held.get(resource);
    if (!held || held.token !== token) {
      if (held) throw new InvalidValueError('token', token, `the lease on ${resource} has token ${held.token} now`);
      throw new HttpError('NOT_FOUND', `no lease on ${JSON.stringify(resource)}${listLocks ? '' : ' held through this server'}`);
    }
    // Freeing the lease ends it for its holder: its fenced writes and its release fail with
    // LOCK_LOST, and the next holder gets a greater token.
    await state.releaseLease({ resource, token: held.token, owner: held.owner });
    await auditLock(state, 'force-release', resource, { owner: held.owner, token: held.token, expiresAt: held.expiresAt }, null, who(req), 'dashboard');
    return { released: true };
  });
}
