/**
 * One ioredis connection (or a caller's client): opening it within the connect timeout, waiting
 * for it after an outage, and closing only what this backend opened.
 *
 * Fault behaviour, and why each ioredis option is set:
 * - `enableOfflineQueue: false`: a command is never parked in a queue while disconnected (it
 *   would run seconds later, after the caller was told it failed). Instead {@link ready} waits
 *   up to the timeout for the reconnect, then fails with `BackendUnavailableError`.
 * - `maxRetriesPerRequest: 0` + `autoResendUnfulfilledCommands: false`: a command in flight when
 *   the connection drops fails at once and is not sent again (a re-sent write could apply twice).
 * - no `commandTimeout`: ioredis would arm (and clear) one timer per command, which cost a read
 *   about 4 µs of CPU and a tenth of its throughput (measured). One watchdog per connection
 *   ({@link Connection#watch}) keeps the promise instead: a server that accepts the connection
 *   but stops answering still fails every call waiting on it, after 1 to 1.1 times the timeout.
 * - `retryStrategy` never gives up: when the server returns, the client reconnects by itself.
 * - an `error` listener is always attached, so ioredis never reports an unhandled error event.
 */
import { BackendUnavailableError, withTimeout } from '@agent-state/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { BACKEND_NAME } from './errors.js';
import type { RedisBackendOptions } from './options.js';

/** What this package takes from the driver module, loaded on the first connection (see {@link loadDriver}). */
interface Driver {
  Redis: typeof Redis;
}

let driver: Promise<Driver> | undefined;

/**
 * Loads ioredis, once per process, when the first connection is opened: importing this package
 * (a CLI that only checks a config, or one that runs on another backend) never loads the
 * driver (~25 ms of module loading).
 */
export function loadDriver(): Promise<Driver> {
  const loading = (driver ??= import('ioredis').then(
    (module) => ({ Redis: module.Redis }),
    (error: unknown) => {
      driver = undefined;
      throw error;
    },
  ));
  return loading;
}

/** True for a Cluster client: ioredis marks both classes, so no class object is needed. */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return client.isCluster;
}

/** The watchdog looks this many times per timeout (so a stall is seen within 1.1 timeouts). */
const WATCH_TICKS = 10;

/** The parts of an ioredis client the watchdog reads: the socket, and the commands sent and not answered. */
interface Watched {
  stream?: { bytesRead: number } | null;
  commandQueue: { length: number; toArray(): { command: { reject(error: Error): void } }[] };
}

/** Reconnect delay: quick at first, then at most once a second. */
function retryDelay(attempt: number): number {
  return Math.min(50 * attempt, 1_000);
}

/** Where the options point, for messages: `redis://host:port/db`, never a password. */
function describeTarget(options: RedisBackendOptions): string {
  if (options.url !== undefined) {
    try {
      const url = new URL(options.url);
      const db = url.pathname.replace(/^\//, '') || String(options.db ?? 0);
      return `${url.protocol}//${url.hostname}:${url.port || '6379'}/${db}`;
    } catch {
      return 'redis (unparsable url)';
    }
  }
  return `${options.tls ? 'rediss' : 'redis'}://${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`;
}

function describeClient(client: Redis | Cluster): string {
  if (isCluster(client)) {
    const nodes = client.nodes('master').map((n) => `${n.options.host}:${n.options.port}`);
    return `redis-cluster://${nodes.length > 0 ? nodes.join(',') : 'startup nodes'}`;
  }
  const o = client.options;
  return o.path ? `redis+unix://${o.path}` : `${o.tls ? 'rediss' : 'redis'}://${o.host}:${o.port}/${o.db ?? 0}`;
}

/** The connection a backend works through. */
export class Connection {
  readonly client: Redis | Cluster;
  /** True when this backend created the client, so it must close it. */
  readonly owned: boolean;
  readonly #target: string | undefined;
  #lastError: Error | undefined;
  #waiting: Promise<void> | undefined;
  #closed = false;
  #watchdog: NodeJS.Timeout | undefined;
  /** The socket's `bytesRead` at the last tick: a change is the server answering. */
  #bytesSeen = -1;
  /** Ticks in a row with commands waiting and nothing read (-1: none were waiting at the last tick). */
  #stalledTicks = -1;
  readonly #onError = (error: Error): void => {
    this.#lastError = error;
  };

  /**
   * The connection of `options` (not connected yet: {@link open} does that). Loads the driver
   * first, unless the caller handed in a client.
   */
  static async create(options: RedisBackendOptions, timeoutMs: number): Promise<Connection> {
    if (options.client) return new Connection(options.client, false, undefined, timeoutMs);
    return new Connection(createClient(await loadDriver(), options, timeoutMs), true, describeTarget(options), timeoutMs);
  }

  private constructor(
    client: Redis | Cluster,
    owned: boolean,
    target: string | undefined,
    /** Bound on connecting, on waiting for a reconnect and on one command. */
    readonly timeoutMs: number,
  ) {
    this.client = client;
    this.owned = owned;
    this.#target = target;
    this.client.on('error', this.#onError);
  }

  /** True when the client is a Redis Cluster client. */
  get isCluster(): boolean {
    return isCluster(this.client);
  }

  /** Where the backend connects, for errors and `health()`; never includes a password. */
  get target(): string {
    return this.#target ?? describeClient(this.client);
  }

  /** True when commands can be sent right now (the hot path checks only this). */
  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** Connects (or waits for a connecting client) within the timeout; `BackendUnavailableError` otherwise. */
  async open(): Promise<void> {
    if (this.isReady) return;
    const connecting = this.client.status === 'wait' ? this.client.connect() : this.#waitReady();
    try {
      await withTimeout(connecting, this.timeoutMs, () => new Error(`not connected within ${this.timeoutMs} ms`));
      if (this.owned) this.#watch();
    } catch (error) {
      connecting.catch(() => undefined);
      // Stop the background reconnects of a client nobody will use.
      if (this.owned) this.client.disconnect();
      throw this.unavailable(error);
    }
  }

  /** Resolves once the client is ready again, or rejects with `BackendUnavailableError` after the timeout. */
  async ready(): Promise<void> {
    if (this.isReady) return;
    if (this.#closed || this.client.status === 'end') throw this.unavailable(new Error('the connection is closed'));
    try {
      await this.#waitReady();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** A `BackendUnavailableError` naming the target and the last connection error seen. */
  unavailable(error: unknown): BackendUnavailableError {
    const reason = error instanceof Error ? error.message : String(error);
    const last = this.#lastError;
    const detail = last && last.message !== reason ? `${reason} (last error: ${last.message})` : reason;
    return new BackendUnavailableError(BACKEND_NAME, this.target, detail, { cause: last ?? error });
  }

  /** Closes an owned client (QUIT, then drop the socket); leaves a caller's client open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    if (!this.owned) {
      this.client.off('error', this.#onError);
      return;
    }
    try {
      // QUIT lets the server finish what it received; a dead server cannot answer, so no wait.
      if (this.isReady) await withTimeout(this.client.quit(), this.timeoutMs, () => new Error('QUIT timed out'));
    } catch {
      // The socket is dropped below either way; a failed goodbye changes nothing for the caller.
    } finally {
      this.client.disconnect();
    }
  }

  /**
   * Starts the connection's watchdog (owned clients, which have no per-command timer): every
   * tenth of the timeout it looks whether commands are waiting for replies and whether the
   * socket has read anything since the last look. When commands have waited through a whole
   * timeout with nothing read, every waiting command fails with "no reply within … ms" (a
   * `BackendUnavailableError` for its caller) and the socket is dropped and reopened: the late
   * replies of a stalled server then match no command, and the next calls wait for the new
   * connection (`ready`). A call costs the watchdog nothing; a tick reads two numbers.
   */
  #watch(): void {
    if (this.#watchdog) return;
    this.#watchdog = setInterval(() => this.#tick(), Math.max(1, Math.floor(this.timeoutMs / WATCH_TICKS)));
    this.#watchdog.unref();
  }

  #tick(): void {
    const client = this.client as unknown as Watched;
    const waiting = this.client.status === 'ready' && client.commandQueue.length > 0;
    const bytes = client.stream?.bytesRead ?? -1;
    if (!waiting || bytes !== this.#bytesSeen) {
      this.#bytesSeen = bytes;
      // A command sent after this tick has waited less than a tick at the next one.
      this.#stalledTicks = waiting ? 0 : -1;
      return;
    }
    if (++this.#stalledTicks < WATCH_TICKS) return;
    this.#stalledTicks = -1;
    const error = new Error(`no reply within ${this.timeoutMs} ms`);
    for (const item of client.commandQueue.toArray()) item.command.reject(error);
    this.client.disconnect(true);
  }

  /** One shared wait for the next `ready`, so many waiting calls add one listener, not many. */
  #waitReady(): Promise<void> {
    this.#waiting ??= new Promise<void>((resolve, reject) => {
      const client = this.client;
      const done = (): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('end', onEnd);
        this.#waiting = undefined;
      };
      const onReady = (): void => {
        done();
        resolve();
      };
      const onEnd = (): void => {
        done();
        reject(new Error('the connection was closed'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`not reconnected within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      client.on('ready', onReady);
      client.on('end', onEnd);
    });
    return this.#waiting;
  }
}

function createClient({ Redis }: Driver, options: RedisBackendOptions, timeoutMs: number): Redis {
  const settings: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
    // Concurrent commands are batched by corking the socket (RedisBackend#call), not by
    // ioredis's auto-pipeline.
    enableAutoPipelining: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    disableClientInfo: true,
    retryStrategy: retryDelay,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  };
  if (options.url !== undefined) return new Redis(options.url, settings);
  return new Redis({
    ...settings,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 6379,
    db: options.db ?? 0,
    ...(options.tls && { tls: {} }),
  });
}
