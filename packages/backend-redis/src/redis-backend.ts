/**
 * The Redis backend: one string per entry, every write is one Lua script (EVALSHA), every read
 * one GET, all under the namespace's `{ns}` hash tag. See README.md for the key layout.
 */
import {
  ConflictError,
  type BackendCapabilities,
  type BackendDeleteOptions,
  type BackendInitContext,
  type BackendWriteOptions,
  type CommitRequest,
  type CommunicationBackend,
  type Entry,
  type HealthReport,
  type JsonValue,
  type ListPageRequest,
  type AcquiredLease,
  type LockLease,
  type RepairReport,
} from '@agent-state/core';
import type { Redis } from 'ioredis';
import { Connection, isCluster } from './connection.js';
import { replyArray, type ScriptContext } from './context.js';
import { decodeEntry, entryDigest } from './codec.js';
import { ScriptError } from './error-code.js';
import { BACKEND_NAME, corruptEntry, driverError, leaseLost } from './errors.js';
import { checkFormat } from './format.js';
import { increment } from './increment.js';
import { DEFAULT_KEY_PREFIX, KeyLayout } from './layout.js';
import { listPage } from './list.js';
import { RedisLogs } from './logs.js';
import { RedisNotify } from './notify.js';
import { RedisQueues } from './queues.js';
import { extendLock, leaseValue, releaseLock, tryLock, wholeMs } from './lock.js';
import { validateOptions, type RedisBackendOptions } from './options.js';
import { isNoScript, runScript, runScriptText, type ScriptName } from './scripts.js';
import { repair } from './repair.js';
import { commit } from './transaction.js';

/** Version sent to a script for "no ifVersion". */
const UNCONDITIONAL = '';

/**
 * How often the age retention of logs is applied (`sweepLogs-3.lua`): expired channel messages
 * are gone within this long even when nobody appends. Every open backend ticks; the namespace's
 * sweep clock lets one sweep per interval do the work.
 */
export const SWEEP_INTERVAL_MS = 1_000;

/** A `CommunicationBackend` on Redis (standalone or Cluster) through ioredis. */
export class RedisBackend implements CommunicationBackend, ScriptContext {
  readonly name = BACKEND_NAME;
  readonly capabilities: BackendCapabilities = {
    multiProcess: true,
    persistent: true,
    nativeIncrement: true,
    coordination: { queues: true, logs: true, notify: true, lockWake: true },
  };
  /** Native queues on sorted sets + Lua (queues.ts). */
  readonly queues: RedisQueues;
  /** Native logs on Streams (logs.ts). */
  readonly logs: RedisLogs;
  /** Wakeups on pub/sub (notify.ts): queue and log topics, and lock releases (lockWake). */
  readonly notify: RedisNotify;
  #conn: Connection | undefined;
  #keys: KeyLayout | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  /** Commands sent through #call and not answered yet (batching, see #call). */
  #inFlight = 0;
  /** The last sweep's failure (reported by `health()`; the next tick tries again). */
  #sweepError: string | undefined;

  constructor(private readonly options: RedisBackendOptions = {}) {
    validateOptions(options);
    const call = <T>(location: string, fn: (client: Connection['client']) => Promise<T>): Promise<T> => this.#call(location, fn);
    this.queues = new RedisQueues(this, call);
    this.logs = new RedisLogs(this, call);
    this.notify = new RedisNotify(
      () => this.#c(),
      () => this.keys,
    );
  }

  get keys(): KeyLayout {
    if (!this.#keys) throw new Error('redis backend used before init');
    return this.#keys;
  }

  async init(context: BackendInitContext): Promise<void> {
    const conn = await Connection.create(this.options, this.options.connectTimeoutMs ?? context.connectTimeoutMs);
    this.#conn = conn;
    this.#keys = new KeyLayout(this.options.keyPrefix ?? DEFAULT_KEY_PREFIX, context.namespace, conn.client.options.keyPrefix ?? '');
    await conn.open();
    try {
      await checkFormat(this, conn.target);
    } catch (error) {
      await conn.close();
      throw error;
    }
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.notify.close();
    await this.#conn?.close();
  }

  /** PING round trip; an unreachable server is reported as `ok: false` with the reason, not thrown. */
  async health(): Promise<HealthReport> {
    const conn = this.#c();
    const started = performance.now();
    const details: Record<string, JsonValue> = {
      mode: conn.isCluster ? 'cluster' : 'standalone',
      keyBase: this.keys.base,
    };
    if (this.#sweepError !== undefined) details['lastSweepError'] = this.#sweepError;
    let ok = true;
    try {
      await this.#call(this.keys.index, (client) => client.ping());
    } catch (error) {
      ok = false;
      details['error'] = error instanceof Error ? error.message : String(error);
    }
    return { ok, backend: this.name, latencyMs: performance.now() - started, target: conn.target, details };
  }

  read(key: string): Promise<Entry | null> {
    const location = this.keys.entry(key);
    return this.#call(location, (client) => client.get(location)).then((stored) => decodeEntry(key, location, stored));
  }

  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    if (keys.length === 1) return [await this.read(keys[0]!)];
    const locations = keys.map((key) => this.keys.entry(key));
    // One MGET: every key shares the {ns} slot, so this works on Cluster too.
    const stored = await this.#call(this.keys.index, (client) => client.mget(locations));
    return keys.map((key, i) => decodeEntry(key, locations[i]!, stored[i]));
  }

  async write(key: string, value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    const location = this.keys.entry(key);
    const fence = options.fence;
    const reply = replyArray(
      await this.script('write', location, [
        location,
        this.keys.index,
        fence ? this.keys.lease(fence.resource) : location,
        this.keys.meta,
        key,
        options.json,
        options.ifVersion ?? UNCONDITIONAL,
        options.ttlMs === undefined ? '' : wholeMs(options.ttlMs),
        fence ? leaseValue(fence) : '',
        entryDigest(options.json),
        // updatedAt of a write without ttlMs (write-4.lua reads the server's TIME only for a ttl).
        Date.now(),
      ]),
    ) as [number, number?, (number | null)?];
    const [code, second, expiresAt] = reply;
    if (code < 0) this.#refused(key, location, code, options.ifVersion, second, fence);
    // `value` itself: core checked it is plain JSON and serialized it to `options.json`, so
    // parsing the text back only to return a copy would cost every write a parse.
    const entry: Entry = { key, value, version: code, updatedAt: second! };
    if (expiresAt != null) entry.expiresAt = expiresAt;
    return entry;
  }

  async delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    const location = this.keys.entry(key);
    const fence = options.fence;
    const [code, actual] = replyArray(
      await this.script('delete', location, [
        location,
        this.keys.index,
        fence ? this.keys.lease(fence.resource) : location,
        this.keys.meta,
        key,
        options.ifVersion ?? UNCONDITIONAL,
        fence ? leaseValue(fence) : '',
      ]),
    ) as [number, number?];
    if (code < 0) this.#refused(key, location, code, options.ifVersion, actual, fence);
    return code === 1;
  }

  list(request: ListPageRequest): Promise<Entry[]> {
    return listPage(this, request);
  }

  tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<AcquiredLease | null> {
    return tryLock(this, resource, options.ttlMs, options.owner);
  }

  extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    return extendLock(this, lease, ttlMs);
  }

  releaseLock(lease: LockLease): Promise<void> {
    return releaseLock(this, lease);
  }

  /**
   * Every live lease of the namespace: a SCAN of its lease keys (which exist exactly while their
   * lease is live), then each one's value and remaining ttl. Not atomic across leases: a dashboard
   * listing, not a decision.
   */
  listLocks(): Promise<LockLease[]> {
    const base = this.keys.lease('');
    return this.#call(base, async (client) => {
      const clientPrefix = client.options.keyPrefix ?? '';
      const pattern = `${(clientPrefix + base).replace(/[*?[\]\\]/g, '\\$&')}*`;
      const found = new Set<string>();
      for (const node of isCluster(client) ? client.nodes('master') : [client]) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) found.add(key.slice(clientPrefix.length));
        } while (cursor !== '0');
      }
      const now = Date.now();
      const leases = await Promise.all(
        [...found].map(async (key) => {
          const [value, ttl] = await Promise.all([client.get(key), client.pttl(key)]);
          const space = value === null ? -1 : value.indexOf(' ');
          if (value === null || space < 0 || ttl <= 0) return null;
          return { resource: key.slice(base.length), owner: value.slice(space + 1), token: Number(value.slice(0, space)), expiresAt: now + ttl };
        }),
      );
      return leases.filter((l): l is LockLease => l !== null).sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
    });
  }

  commit(request: CommitRequest): Promise<void> {
    return commit(this, request);
  }

  increment(key: string, by: number): Promise<number> {
    return increment(this, key, by);
  }

  repair(key: string): Promise<RepairReport> {
    return repair(this, key, (location, fn) => this.#call(location, fn));
  }

  /** One retention sweep, skipped while the previous one runs or the connection is down. */
  #sweep(): void {
    if (this.#sweeping || !this.#conn?.isReady) return;
    this.#sweeping = true;
    this.logs.sweep(SWEEP_INTERVAL_MS).then(
      () => {
        this.#sweepError = undefined;
        this.#sweeping = false;
      },
      (error: unknown) => {
        // A background tick has no caller to reject: health() reports it, the next tick retries.
        this.#sweepError = error instanceof Error ? error.message : String(error);
        this.#sweeping = false;
      },
    );
  }

  /** @internal {@link ScriptContext.script}. */
  script(name: ScriptName, location: string, args: (string | number)[]): Promise<unknown> {
    return this.#call(
      location,
      (client) => runScript(client, name, args),
      (client) => runScriptText(client, name, args),
    );
  }

  /**
   * Runs one driver call once the connection is ready, mapping its errors. Not an async
   * function: on the hot path (connection ready) it adds one promise, not an async frame.
   */
  #call<T>(location: string, fn: (client: Connection['client']) => Promise<T>, noScript?: (client: Connection['client']) => Promise<T>): Promise<T> {
    const conn = this.#c();
    if (!conn.isReady) return conn.ready().then(() => this.#call(location, fn, noScript));
    const client = conn.client;
    // Batching only for concurrent callers, by corking the socket: with nothing in flight a
    // command is written at once; while others are in flight, the first command of this turn
    // corks the socket and a nextTick uncorks it, so every command issued meanwhile (the
    // continuations of a whole batch of replies run as one microtask drain) leaves in one
    // writev, and the server reads them at once. Not ioredis's auto-pipelining: its Pipeline,
    // per-command then/catch and result arrays cost a write+read pair at 32 in flight ~3 KB of
    // allocation and ~2-6 µs of CPU more than this (measured). Commands keep their order: they
    // all go through the one socket in call order. A client handed in is left as it is.
    if (conn.owned && this.#inFlight > 0 && this.#corked === undefined) {
      const stream = (client as Redis).stream;
      stream.cork();
      this.#corked = stream;
      process.nextTick(this.#uncork);
    }
    let pending: Promise<T>;
    try {
      pending = fn(client);
    } catch (error) {
      return Promise.reject(driverError(error, conn.target, location));
    }
    this.#inFlight++;
    return pending.then(this.#settled, (error: unknown) => {
      this.#inFlight--;
      // A server without the script (fresh, restarted, flushed): EVAL once, which caches it.
      if (noScript !== undefined && isNoScript(error)) return this.#call(location, noScript);
      throw driverError(error, conn.target, location);
    });
  }

  /** The socket corked for this turn's commands (see #call), until the nextTick uncorks it. */
  #corked: { uncork(): void } | undefined;
  readonly #uncork = (): void => {
    const stream = this.#corked;
    this.#corked = undefined;
    stream?.uncork();
  };

  /** The success half of #call's then(): one function for every call, not a closure per call. */
  readonly #settled = <T>(value: T): T => {
    this.#inFlight--;
    return value;
  };

  /** Throws the error for a write or delete script's negative reply. */
  #refused(key: string, location: string, code: number, expected: BackendWriteOptions['ifVersion'], actual: number | undefined, fence: LockLease | undefined): never {
    if (code === ScriptError.Conflict) throw new ConflictError(key, expected ?? 'absent', actual ? actual : 'absent');
    if ((code === ScriptError.LeaseExpired || code === ScriptError.LeaseTaken) && fence) throw leaseLost(fence, code);
    throw corruptEntry(location);
  }

  #c(): Connection {
    if (!this.#conn) throw new Error('redis backend used before init');
    return this.#conn;
  }
}

/**
 * Creates the Redis backend. Pass it to `openState({ backend })`, or let `openState()` build it
 * from project.yml through {@link createBackend}.
 *
 * @example
 * const backend = createRedisBackend({ url: 'redis://127.0.0.1:6379/0' });
 * const state = await openState({ backend, config: { backend: 'redis', namespace: 'team' } });
 */
export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  return new RedisBackend(options);
}
