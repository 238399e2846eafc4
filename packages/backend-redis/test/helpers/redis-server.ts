/**
 * Throwaway redis-server processes on loopback ports, for the fault and cluster tests. Each gets
 * its own temp directory; `stop()` shuts it down and `dispose()` removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { closedPort } from './redis.js';

const REDIS_SERVER = process.env['REDIS_SERVER_BIN'] || 'redis-server';

/** One redis-server child process. */
export class RedisServer {
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `agent-state-redis-${port}-`));
  }

  /** Starts a server on a free port (or `port`) and waits until it answers PING. */
  static async start(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await closedPort()), extraArgs);
    try {
      await server.restart();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process on the same port and directory (it reloads dump.rdb if there is one). */
  async restart(): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...this.extraArgs],
      { stdio: 'ignore' },
    );
    this.#child = child;
    await waitForPing(this.port);
  }

  /** Shuts the server down, saving its data first when `save` (so a restart finds it again). */
  async stop({ save = false } = {}): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    // SHUTDOWN needs the password a test may have set; a server that refuses it is killed.
    const password = this.extraArgs[this.extraArgs.indexOf('--requirepass') + 1];
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const admin = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(this.extraArgs.includes('--requirepass') && password !== undefined && { password }),
    });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      await admin.call('SHUTDOWN', save ? 'SAVE' : 'NOSAVE').catch(() => undefined);
    } catch {
      child.kill('SIGKILL');
    } finally {
      admin.disconnect();
    }
    await exited;
    this.#child = undefined;
  }

  /** Stops the server and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves once a server answers PING on `port` (at most ~10 s). */
export async function waitForPing(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (error) {
      // An error reply (NOAUTH on a server with requirepass) means it is up; a refusal means not yet.
      if ((error as Error).name === 'ReplyError') return;
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not answer`);
}
