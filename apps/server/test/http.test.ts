/**
 * The HTTP API against a real server child process on a real store: keys, CAS, waits, locks,
 * transactions, queues, channels and logs over SSE, agents, mailboxes, and every bad input the
 * README lists, each answered with its code and nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, rawRequest, startServer, type ServerProcess, type TestProject } from './helpers.js';

let project: TestProject;
let server: ServerProcess;

beforeAll(async () => {
  project = makeProject('sqlite');
  server = await startServer(project);
});

afterAll(async () => {
  await server?.stop();
  await project?.cleanup();
});

/** Reads SSE events from a stream until `count` arrived (deadline 20 s). */
async function readEvents(path: string, count: number, headers: Record<string, string> = {}, onOpen?: () => Promise<void>): Promise<{ id: string; data: any }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.token}`, ...headers }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const events: { id: string; data: any }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let opened = false;
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      if (!opened && buffer.includes(': connected')) {
        opened = true;
        if (onOpen) await onOpen();
      }
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) });
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe('auth, Host check, limits and hostile input', () => {
  it('GET /health answers without a token', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, backend: 'sqlite' });
  });

  it('no token, a wrong token, a foreign Host, a 10 MiB body and ../x are refused and write nothing', async () => {
    const body = JSON.stringify({ value: 'x' });
    const json = { 'content-type': 'application/json' };
    const noToken = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/probe/a', headers: json, body });
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.body).error.code).toBe('UNAUTHORIZED');
    const wrong = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/probe/a', headers: { ...json, authorization: 'Bearer nope-nope-nope-nope' }, body });
    expect(wrong.status).toBe(401);
    const auth = { ...json, authorization: `Bearer ${server.token}` };
    const foreign = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/probe/a', headers: { ...auth, host: 'evil.example:7878' }, body });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error.code).toBe('FORBIDDEN');
    const big = JSON.stringify({ value: 'x'.repeat(10 * 1024 * 1024) });
    const tooLarge = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/probe/a', headers: auth, body: big });
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body).error.code).toBe('TOO_LARGE');
    const hostile = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/../x', headers: auth, body });
    expect(hostile.status).toBe(400);
    expect(JSON.parse(hostile.body).error.code).toBe('INVALID_KEY');
    const encoded = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/..%2Fx', headers: auth, body });
    expect(encoded.status).toBe(400);
    const malformed = await rawRequest(server.port, { method: 'PUT', path: '/v1/keys/probe/a', headers: auth, body: '{"value":' });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).error.code).toBe('INVALID_VALUE');
    const badType = await server.call('PUT', '/v1/keys/probe/a', { value: 1, ttlMs: '5' });
    expect(badType.status).toBe(400);
    expect(badType.body.error.message).toContain('ttlMs');
    const unknownField = await server.call('PUT', '/v1/keys/probe/a', { value: 1, ifversion: 3 });
    expect(unknownField.status).toBe(400);
    const listed = await server.call('GET', '/v1/keys?prefix=probe/');
    expect(listed.body.entries).toEqual([]);
    expect((await server.call('GET', '/v1/keys?prefix=x')).body.entries).toEqual([]);
    expect((await server.call('GET', '/v1/nope')).status).toBe(404);
  });
});

describe('keys', () => {
  it('write, read, CAS, delete, increment and list pages', async () => {
    const put = await server.call('PUT', '/v1/keys/tasks/42', { value: { status: 'assigned' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ key: 'tasks/42', value: { status: 'assigned' }, version: expect.any(Number) });
    const v = put.body.version as number;
    expect((await server.call('GET', '/v1/keys/tasks/42')).body.version).toBe(v);
    const stale = await server.call('PUT', '/v1/keys/tasks/42', { value: 1, ifVersion: v + 5 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('CONFLICT');
    const absent = await server.call('PUT', '/v1/keys/tasks/42', { value: 1, ifVersion: 'absent' });
    expect(absent.status).toBe(409);
    expect((await server.call('PUT', '/v1/keys/tasks/42', { value: 2, ifVersion: v })).status).toBe(200);
    expect((await server.call('GET', '/v1/keys/tasks/404')).status).toBe(404);
    expect((await server.call('POST', '/v1/keys/counters/a?op=increment', { by: 5 })).body).toEqual({ value: 5 });
    expect((await server.call('POST', '/v1/keys/counters/a?op=increment')).body).toEqual({ value: 6 });
    for (let i = 0; i < 5; i++) await server.call('PUT', `/v1/keys/page/${i}`, { value: i });
    const first = await server.call('GET', '/v1/keys?prefix=page/&limit=3');
    expect(first.body.entries.map((e: { key: string }) => e.key)).toEqual(['page/0', 'page/1', 'page/2']);
    expect(first.body.next).toBe('page/2');
    const second = await server.call('GET', `/v1/keys?prefix=page/&limit=3&after=${first.body.next}`);
    expect(second.body.entries.map((e: { key: string }) => e.key)).toEqual(['page/3', 'page/4']);
    expect(second.body.next).toBeUndefined();
    expect((await server.call('GET', '/v1/keys?limit=1001')).status).toBe(400);
    expect((await server.call('DELETE', '/v1/keys/page/0')).body).toEqual({ deleted: true });
    expect((await server.call('DELETE', '/v1/keys/page/0')).body).toEqual({ deleted: false });
  });

  it('a key wait returns once the key reaches the version, 408 at its deadline', async () => {
    const waiting = server.call('GET', '/v1/keys/waited/k?wait=1&timeoutMs=20000');
    await new Promise((r) => setTimeout(r, 100));
    await server.call('PUT', '/v1/keys/waited/k', { value: 'here' });
    const got = await waiting;
    expect(got.status).toBe(200);
    expect(got.body.value).toBe('here');
    const timeout = await server.call('GET', `/v1/keys/waited/k?wait=1&minVersion=${got.body.version + 100}&timeoutMs=50`);
    expect(timeout.status).toBe(408);
    expect(timeout.body.error.code).toBe('TIMEOUT');
  });

  it('transactions commit all or nothing and refuse stale reads with 409', async () => {
    const a = (await server.call('PUT', '/v1/keys/tx/a', { value: 1 })).body;
    const ok = await server.call('POST', '/v1/transactions', {
      reads: [{ key: 'tx/a', version: a.version }, { key: 'tx/none', version: null }],
      writes: [{ key: 'tx/a', value: 2 }, { key: 'tx/b', value: 'b' }],
    });
    expect(ok.body).toEqual({ committed: true });
    const stale = await server.call('POST', '/v1/transactions', { reads: [{ key: 'tx/a', version: a.version }], writes: [{ key: 'tx/c', value: 1 }, { key: 'tx/b', delete: true }] });
    expect(stale.status).toBe(409);
    expect((await server.call('GET', '/v1/keys/tx/c')).status).toBe(404);
    expect((await server.call('GET', '/v1/keys/tx/b')).body.value).toBe('b');
    const hostile = await server.call('POST', '/v1/transactions', { writes: [{ key: 'tx/ok', value: 1 }, { key: '../etc', value: 1 }] });
    expect(hostile.status).toBe(400);
    expect((await server.call('GET', '/v1/keys/tx/ok')).status).toBe(404);
  });
});

describe('locks', () => {
  it('lock many, all or none; extend; release by { token, owner }; LOCK_LOST after', async () => {
    const { body } = await server.call('POST', '/v1/locks', { resources: ['res/b', 'res/a'], ttlMs: 30_000 });
    expect(body.locks.map((l: { resource: string }) => l.resource)).toEqual(['res/a', 'res/b']);
    const busy = await server.call('POST', '/v1/locks', { resources: ['res/c', 'res/b'], waitMs: 0 });
    expect(busy.status).toBe(408);
    expect(busy.body.error.code).toBe('LOCK_TIMEOUT');
    // None of the busy request was kept: res/c is free.
    const c = await server.call('POST', '/v1/locks/res/c', { waitMs: 0 });
    expect(c.status).toBe(200);
    const [a] = body.locks;
    const extended = await server.call('POST', '/v1/locks/res/a?op=extend', { token: a.token, owner: a.owner, ttlMs: 60_000 });
    expect(extended.status).toBe(200);
    expect(extended.body.expiresAt).toBeGreaterThan(a.expiresAt);
    // A fenced write passes while held.
    expect((await server.call('PUT', '/v1/keys/fenced/x', { value: 1, fence: a })).status).toBe(200);
    for (const l of [...body.locks, c.body]) expect((await server.call('DELETE', `/v1/locks/${l.resource}`, { token: l.token, owner: l.owner })).body).toEqual({ released: true });
    const again = await server.call('DELETE', '/v1/locks/res/a', { token: a.token, owner: a.owner });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('LOCK_LOST');
    const fenced = await server.call('PUT', '/v1/keys/fenced/x', { value: 2, fence: a });
    expect(fenced.status).toBe(409);
    expect(fenced.body.error.code).toBe('LOCK_LOST');
  });
});

describe('queues', () => {
  it('enqueue, a blocked claim woken by an enqueue, ack by id + leaseId, nack, counts', async () => {
    const claim = server.call('POST', '/v1/queues/jobs/claim', { waitMs: 20_000, leaseMs: 30_000 });
    await new Promise((r) => setTimeout(r, 100));
    const added = await server.call('POST', '/v1/queues/jobs/jobs', { payload: { n: 1 }, priority: 'high' });
    expect(added.status).toBe(201);
    const job = await claim;
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ id: added.body.id, payload: { n: 1 }, attempts: 1, priority: 10 });
    expect((await server.call('POST', '/v1/queues/jobs/claim', { waitMs: 0 })).status).toBe(204);
    expect((await server.call('GET', '/v1/queues/jobs')).body).toMatchObject({ name: 'jobs', inFlight: 1, waiting: 0 });
    expect((await server.call('POST', `/v1/queues/jobs/jobs/${job.body.id}/ack`, { leaseId: 'wrong' })).body).toEqual({ acked: false });
    expect((await server.call('POST', `/v1/queues/jobs/jobs/${job.body.id}/nack`, { leaseId: job.body.leaseId })).body).toEqual({ nacked: true });
    const again = await server.call('POST', '/v1/queues/jobs/claim', {});
    expect(again.body.attempts).toBe(2);
    expect((await server.call('POST', `/v1/queues/jobs/jobs/${again.body.id}/ack`, { leaseId: again.body.leaseId })).body).toEqual({ acked: true });
    expect((await server.call('GET', '/v1/queues/jobs')).body).toMatchObject({ waiting: 0, inFlight: 0 });
    expect((await server.call('POST', '/v1/queues/bad%2Fname/jobs', { payload: 1 })).status).toBe(400);
  });
});

describe('channels and logs over SSE', () => {
  it('a subscriber receives publishes with id = sequence; Last-Event-ID resumes after it', async () => {
    const events = await readEvents('/v1/channels/news/events', 3, {}, async () => {
      for (const n of [1, 2, 3]) await server.call('POST', '/v1/channels/news/messages', { message: { n } });
    });
    expect(events.map((e) => e.data.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((e) => e.data.sequence));
    const resumed = await readEvents('/v1/channels/news/events', 2, { 'last-event-id': events[0]!.id });
    expect(resumed.map((e) => e.data.message)).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('log append, read, and follow from Last-Event-ID', async () => {
    const first = await server.call('POST', '/v1/logs/progress/records', { record: { step: 1 } });
    expect(first.status).toBe(201);
    await server.call('POST', '/v1/logs/progress/records', { record: { step: 2 } });
    const read = await server.call('GET', '/v1/logs/progress/records?after=0');
    expect(read.body.records.map((r: { record: unknown }) => r.record)).toEqual([{ step: 1 }, { step: 2 }]);
    const events = await readEvents('/v1/logs/progress/events', 2, { 'last-event-id': String(first.body.seq) }, async () => {
      await server.call('POST', '/v1/logs/progress/records', { record: { step: 3 } });
    });
    expect(events.map((e) => e.data.record)).toEqual([{ step: 2 }, { step: 3 }]);
  });
});

describe('agents and mailboxes', () => {
  it('register, heartbeat, list; send, receive (left until acked), ack', async () => {
    expect((await server.call('PUT', '/v1/agents/exec-1', { info: { role: 'executor' } })).status).toBe(200);
    expect((await server.call('PUT', '/v1/agents/guide-1', {})).status).toBe(200);
    expect((await server.call('POST', '/v1/agents/exec-1/heartbeat', { metrics: { cpu: 1 } })).status).toBe(200);
    const agents = (await server.call('GET', '/v1/agents')).body.agents;
    expect(agents.map((a: { agentId: string }) => a.agentId).sort()).toEqual(['exec-1', 'guide-1']);
    expect(agents.find((a: { agentId: string }) => a.agentId === 'exec-1')).toMatchObject({ status: 'healthy', info: { role: 'executor' } });
    const sent = await server.call('POST', '/v1/mailboxes/guide-1/messages', { to: 'exec-1', message: 'start' });
    expect(sent.status).toBe(201);
    expect(sent.body.ids).toHaveLength(1);
    const waited = server.call('GET', '/v1/mailboxes/guide-1/messages?waitMs=20000');
    await new Promise((r) => setTimeout(r, 100));
    await server.call('POST', '/v1/mailboxes/exec-1/messages', { to: 'guide-1', message: 'ack me' });
    expect((await waited).body.messages.map((m: { message: unknown }) => m.message)).toEqual(['ack me']);
    const inbox = await server.call('GET', '/v1/mailboxes/exec-1/messages');
    expect(inbox.body.messages).toHaveLength(1);
    expect(inbox.body.messages[0]).toMatchObject({ from: 'guide-1', message: 'start' });
    expect((await server.call('GET', '/v1/mailboxes/exec-1/messages')).body.messages).toHaveLength(1);
    await server.call('POST', '/v1/mailboxes/exec-1/ack', { ids: inbox.body.messages.map((m: { id: string }) => m.id) });
    expect((await server.call('GET', '/v1/mailboxes/exec-1/messages')).body.messages).toEqual([]);
  });

  it('GET /metrics is Prometheus text', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(await res.text()).toMatch(/agent_state_http_requests_total\{method="PUT",route="\/v1\/keys\/\*",status="200"\} \d+/);
  });
});

describe('--allow-host and AGENT_STATE_TOKEN', () => {
  it('accepts an allowed Host name besides loopback, still refuses others; the env token wins over the file', async () => {
    const p = makeProject('file');
    const token = 'env-token-0123456789abcdefghij';
    const s = await startServer(p, { env: { AGENT_STATE_TOKEN: token }, serve: { allowHosts: ['agents.internal'] } });
    try {
      const auth = { authorization: `Bearer ${token}` };
      expect((await rawRequest(s.port, { method: 'GET', path: '/v1/keys', headers: { ...auth, host: `agents.internal:${s.port}` } })).status).toBe(200);
      expect((await rawRequest(s.port, { method: 'GET', path: '/v1/keys', headers: { ...auth, host: `localhost:${s.port}` } })).status).toBe(200);
      expect((await rawRequest(s.port, { method: 'GET', path: '/v1/keys', headers: { ...auth, host: `other.internal:${s.port}` } })).status).toBe(403);
      expect(s.stdout()).toContain('token from AGENT_STATE_TOKEN');
    } finally {
      await s.stop();
      await p.cleanup();
    }
  });
});

describe('SSE keep-alive', () => {
  it('sends a ": ping" comment on an idle stream', async () => {
    const p = makeProject('file');
    const s = await startServer(p, { serve: { pingMs: 50 } });
    try {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 20_000);
      const res = await fetch(`${s.url}/v1/channels/idle/events`, { headers: { authorization: `Bearer ${s.token}` }, signal: controller.signal });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(': ping\n\n')) text += new TextDecoder().decode((await reader.read()).value);
      clearTimeout(timer);
      controller.abort();
      expect(text).toContain(': ping');
    } finally {
      await s.stop();
      await p.cleanup();
    }
  });
});
