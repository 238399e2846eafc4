/**
 * Test harness: a fresh store per test (temp dir, temp SQLite file, random Redis namespace), the
 * real server as a child process on a free port, and raw HTTP for requests `fetch` refuses to
 * send (a foreign Host, a `..` path segment).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const here = dirname(fileURLToPath(import.meta.url));
/** The built internal entry (`serve` / `mcp`). */
export const CHILD = resolve(here, '../dist/child.js');
export const REPO = resolve(here, '../../..');
const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const REDIS_PREFIX = 'agent-state-server-test';

export type TestBackend = 'file' | 'sqlite' | 'redis';

/** True when Redis answers; under CI=true it must. */
export async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1_000, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    if (process.env['CI'] === 'true') throw new Error(`CI=true but Redis does not answer at ${REDIS_URL}: ${(error as Error).message}`);
    return false;
  } finally {
    client.disconnect();
  }
}

/** One isolated project: a directory with project.yml, and its store. */
export interface TestProject {
  dir: string;
  backend: TestBackend;
  namespace: string;
  cleanup(): Promise<void>;
}

export function makeProject(backend: TestBackend = 'file'): TestProject {
  const dir = mkdtempSync(join(tmpdir(), `agent-state-server-${backend}-`));
  const namespace = `s-${randomBytes(5).toString('hex')}`;
  const settings =
    backend === 'file'
      ? '    directory: ./state\n'
      : backend === 'sqlite'
        ? '    database_path: ./state.db\n'
        : `    redis_url: ${REDIS_URL}\n    redis_key_prefix: ${REDIS_PREFIX}\n`;
  writeFileSync(join(dir, 'project.yml'), `communication:\n  backend: ${backend}\n  namespace: ${namespace}\n  settings:\n${settings}`);
  return {
    dir,
    backend,
    namespace,
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
      if (backend === 'redis') await dropRedisNamespace(namespace);
    },
  };
}

async function dropRedisNamespace(namespace: string): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${REDIS_PREFIX}:{${namespace}}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A server child process. */
export interface ServerProcess {
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait (SIGKILL after 10 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** An authorized JSON request. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Starts `serve` in `project.dir` on a free port and waits for its ready line (deadline 20 s). */
export async function startServer(project: TestProject, options: { env?: NodeJS.ProcessEnv; serve?: Record<string, unknown> } = {}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env['COMMUNICATION_BACKEND'];
  const proc = spawn(process.execPath, [CHILD, 'serve', JSON.stringify({ port: 0, ...options.serve })], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      res({ code, signal });
    }),
  );
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server not ready within 20 s: ${out} ${err}`)), 20_000);
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      rej(new Error(`server exited before ready: ${out} ${err}`));
    });
  });
  const token = (options.env?.['AGENT_STATE_TOKEN'] as string | undefined) ?? (await import('node:fs')).readFileSync(join(project.dir, '.agent-state/serve.token'), 'utf8').trim();
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    port,
    token,
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
  return server;
}

/** A raw HTTP request (no URL normalization, any Host header). */
export function rawRequest(port: number, options: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, method: options.method, path: options.path, headers: options.headers, timeout: 30_000 }, (response) => {
      let body = '';
      response.on('data', (d: Buffer) => (body += d.toString()));
      response.on('end', () => res({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', (error) => {
      // A server may answer 413 and close before the whole body is sent.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE' || (error as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      rej(error);
    });
    req.on('timeout', () => req.destroy(new Error('raw request timed out')));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Spawns `node script args…` and collects stdout (JSON lines), with a deadline. */
export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`${script} did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      live.delete(proc);
      res({ code, stdout, stderr });
    });
  });
}

export const builtBackends = {
  file: existsSync(join(REPO, 'packages/backend-file/dist/index.js')),
  sqlite: existsSync(join(REPO, 'packages/backend-sqlite/dist/index.js')),
  redis: existsSync(join(REPO, 'packages/backend-redis/dist/index.js')),
};
