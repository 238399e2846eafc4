/**
 * The races beads and reservation tools lost, run for real across processes and two servers on
 * one shared backend; a server SIGKILLed mid-load; a graceful stop with streams and waits open.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject, startServer, type ServerProcess, type TestProject } from './helpers.js';

const RACER = resolve(import.meta.dirname, 'fixtures/racer.mjs');
const SSE_CLIENT = resolve(import.meta.dirname, 'fixtures/sse-client.mjs');
const TOKEN = 'race-test-token-0123456789abcdef';

let cleanups: (() => Promise<unknown>)[] = [];

/**
 * Starts every racer, waits until all are connected ("ready"), then releases them at once by
 * writing a line to each one's stdin; resolves with each one's result line.
 */
async function race(argsList: string[][]): Promise<{ won: boolean; job?: { id: string; leaseId: string }; locks?: { resource: string; token: number; owner: string }[] }[]> {
  const procs = argsList.map((args) => {
    const proc = spawn(process.execPath, [RACER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    cleanups.push(async () => void proc.kill('SIGKILL'));
    return { proc, exited, out: () => out, err: () => err };
  });
  const deadline = Date.now() + 90_000;
  while (!procs.every((p) => p.out().startsWith('ready\n'))) {
    if (Date.now() > deadline) throw new Error(`racers not ready: ${procs.map((p) => p.err()).join(' ')}`);
    if (procs.some((p) => p.proc.exitCode !== null)) throw new Error(`a racer exited early: ${procs.map((p) => p.err()).join(' ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const p of procs) p.proc.stdin.end('go\n');
  return Promise.all(
    procs.map(async (p) => {
      expect(await p.exited, p.err()).toBe(0);
      return JSON.parse(p.out().slice('ready\n'.length).trim());
    }),
  );
}
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function twoServers(backend: 'sqlite' | 'file'): Promise<{ project: TestProject; a: ServerProcess; b: ServerProcess }> {
  const project = makeProject(backend);
  cleanups.push(() => project.cleanup());
  const env = { AGENT_STATE_TOKEN: TOKEN };
  const a = await startServer(project, { env });
  cleanups.push(() => a.stop());
  const b = await startServer(project, { env });
  cleanups.push(() => b.stop());
  return { project, a, b };
}

describe('races across processes and servers', () => {
  it('16 processes claim the same task through HTTP and MCP on two servers: exactly one wins', async () => {
    const { a, b } = await twoServers('sqlite');
    for (let round = 0; round < 2; round++) {
      const added = await a.call('POST', '/v1/queues/race/jobs', { payload: { round } });
      const results = await race(Array.from({ length: 16 }, (_, i) => [i % 2 ? 'mcp' : 'http', (i % 4 < 2 ? a : b).url, TOKEN, 'claim']));
      const winners = results.filter((r) => r.won);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.job!.id).toBe(added.body.id);
      // The winner settles through the other server: claims settle by id + leaseId anywhere.
      const other = (await a.call('GET', '/v1/queues/race')).body.inFlight === 1 ? b : a;
      expect((await other.call('POST', `/v1/queues/race/jobs/${winners[0]!.job!.id}/ack`, { leaseId: winners[0]!.job!.leaseId })).body).toEqual({ acked: true });
    }
  });

  it('two agents ask for overlapping path sets at once: one gets all, the other none', async () => {
    const { a, b } = await twoServers('sqlite');
    for (let round = 0; round < 4; round++) {
      const sets = [`r${round}/src/a.ts,r${round}/src/b.ts,r${round}/README.md`, `r${round}/src/c.ts,r${round}/README.md,r${round}/src/b.ts`];
      const modes = round % 2 ? ['mcp', 'http'] : ['mcp', 'mcp'];
      const results = await race(
        sets.map((paths, i) => {
          const resources = modes[i] === 'http' ? paths.split(',').map((p) => `files/${p}`).join(',') : paths;
          return [modes[i]!, (i ? b : a).url, TOKEN, 'lock', resources, `agent-${i}`];
        }),
      );
      expect(results.filter((r) => r.won)).toHaveLength(1);
      const winner = results.find((r) => r.won)!;
      expect(winner.locks).toHaveLength(3);
      // The loser holds nothing: its non-overlapping path is free right away.
      const loserIndex = results.indexOf(results.find((r) => !r.won)!);
      const loserOnly = loserIndex === 0 ? `files/r${round}/src/a.ts` : `files/r${round}/src/c.ts`;
      const free = await a.call('POST', `/v1/locks/${loserOnly}`, { waitMs: 0 });
      expect(free.status).toBe(200);
      // Released through the other server (stateless release by { token, owner }).
      for (const l of [...winner.locks!, free.body]) expect((await b.call('DELETE', `/v1/locks/${l.resource}`, { token: l.token, owner: l.owner })).status).toBe(200);
    }
  });
});

describe('crash and stop', () => {
  it('a server SIGKILLed mid-load loses no acknowledged write; a second server takes over', async () => {
    const { a, b } = await twoServers('sqlite');
    const acked: number[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const n = w * 1_000_000 + i;
        try {
          const res = await a.call('PUT', `/v1/keys/load/${n}`, { value: n });
          if (res.status === 200) acked.push(n);
        } catch {
          return; // the connection died with the server: this write was never acknowledged
        }
      }
    });
    for (const deadline = Date.now() + 30_000; acked.length < 50; await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error(`only ${acked.length} of 50 writes were acknowledged within 30 s`);
    }
    a.proc.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    stop = true;
    await Promise.all(writers);
    const keys = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await b.call('GET', `/v1/keys?prefix=load/&limit=1000${after ? `&after=${after}` : ''}`);
      for (const e of page.body.entries) keys.add(e.key);
      if (!page.body.next) break;
      after = page.body.next;
    }
    for (const n of acked) expect(keys.has(`load/${n}`)).toBe(true);
    expect((await b.call('PUT', '/v1/keys/load/after', { value: 1 })).status).toBe(200);
  });

  it('a lock a SIGKILLed server took for a remote agent stays held until its ttl (never freed as a dead local holder)', async () => {
    // The file backend frees a lease whose local holder process is gone: a server's leases
    // belong to remote agents, so they must not count as the server's own.
    const { a, b } = await twoServers('file');
    const taken = await a.call('POST', '/v1/locks/files%2Freport.md', { ttlMs: 60_000 });
    expect(taken.status).toBe(200);
    a.proc.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const again = await b.call('POST', '/v1/locks/files%2Freport.md', { ttlMs: 60_000, waitMs: 500 });
    expect(again.status).toBe(408);
    expect(again.body.error.code).toBe('LOCK_TIMEOUT');
  });

  it('SIGTERM ends SSE streams and blocked claims, finishes in-flight requests, exits 0', async () => {
    const project = makeProject('file');
    cleanups.push(() => project.cleanup());
    const server = await startServer(project);
    cleanups.push(() => server.stop());
    const sse = spawn(process.execPath, [SSE_CLIENT, `${server.url}/v1/channels/c/events`, server.token], { stdio: ['ignore', 'pipe', 'pipe'] });
    let sseOut = '';
    sse.stdout.on('data', (d: Buffer) => (sseOut += d.toString()));
    const sseDone = new Promise<number | null>((r) => sse.once('exit', (code) => r(code)));
    cleanups.push(async () => void sse.kill('SIGKILL'));
    const deadline = Date.now() + 15_000;
    while (!sseOut.includes('open') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const claim = server.call('POST', '/v1/queues/q/claim', { waitMs: 60_000 }).catch((e: Error) => ({ status: -1, body: e.message }));
    await new Promise((r) => setTimeout(r, 200));
    const exit = await server.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    const answered = await claim;
    expect([204, 503]).toContain(answered.status);
    expect(await sseDone).toBe(0);
    expect(sseOut).toContain('ended');
    expect(join(project.dir)).toBeTruthy();
  });
});
