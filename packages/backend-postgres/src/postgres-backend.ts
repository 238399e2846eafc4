/**
 * The PostgreSQL backend: one `pg.Pool` per client, one more connection for LISTEN, every table
 * in one schema (layout.ts), the namespace a column. Reads are plain statements; every change is
 * one statement or one transaction (entries.ts, transaction.ts, lock.ts, queues.ts, logs.ts),
 * and every clock reading is the server's (`now_ms()`), so processes on machines with skewed
 * clocks agree on TTLs and leases.
 */
import { createHash } from 'node:crypto';
import {
  BackendUnavailableError,
  StateClosedError,
  withTimeout,
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
  type LockLease,
  type RepairReport,
} from '@agent-state/core';
import { Db } from './connection.js';
import type { Context } from './context.js';
import { deleteEntry, incrementEntry, listEntries, readEntries, readEntry, repairEntry, sweepExpired, writeEntry } from './entries.js';
import { BACKEND_NAME } from './errors.js';
import { extendLock, listLocks, releaseLock, tryLock } from './lock.js';
import { PostgresLogs } from './logs.js';
import { PostgresNotify } from './notify.js';
import { resolveOptions, type PostgresBackendOptions, type ResolvedPostgresOptions } from './options.js';
import { PostgresQueues } from './queues.js';
import { FORMAT_VERSION, migrate } from './layout.js';
import { sqlFor } from './sql.js';
import { commit } from './transaction.js';

/** Expired entries are deleted lazily, at most this often per client, after a write. */
const SWEEP_INTERVAL_MS = 30_000;
/** Entries one sweep deletes at most, so it stays a short statement. */
const SWEEP_LIMIT = 500;
/** How often a client that appended with an age retention trims the logs past it, in ms. */
export const LOG_SWEEP_INTERVAL_MS = 1_000;

/** The LISTEN/NOTIFY channel of a schema and namespace (an identifier of at most 63 bytes). */
export function channelFor(schema: string, namespace: string): string {
  return `agent_state_${createHash('md5').update(`${schema}\u0001${namespace}`).digest('hex')}`;
}

export class PostgresBackend implements CommunicationBackend {
  readonly name = BACKEND_NAME;
  readonly capabilities: BackendCapabilities = {
    multiProcess: true,
    persistent: true,
    nativeIncrement: true,
    coordination: { queues: true, logs: true, notify: true, lockWake: true },
  };
  readonly options: ResolvedPostgresOptions;
  #context: Context | undefined;
  #nextSweep = 0;
  #logSweep: NodeJS.Timeout | undefined;
  #upgradedFrom: number | undefined;

  /** Native queues: one `FOR UPDATE SKIP LOCKED` statement per claim (queues.ts). */
  readonly queues: PostgresQueues;
  /** Native append-only logs: one statement per append, gap-free seqs (logs.ts). */
  readonly logs: PostgresLogs;
  /** LISTEN/NOTIFY wakeups (notify.ts). */
  readonly notify: PostgresNotify;

  constructor(options: PostgresBackendOptions | ResolvedPostgresOptions) {
    this.options = 'target' in options ? (options as ResolvedPostgresOptions) : resolveOptions(options);
    const context = () => this.#ctx();
    this.queues = new PostgresQueues(context, this.options.schema);
    this.logs = new PostgresLogs(context, this.options.schema, () => this.#startLogSweep());
    this.notify = new PostgresNotify();
    this.notify.nextDueIn = (queue, after) => this.queues.nextDueIn(queue, after);
  }

  async init(context: BackendInitContext): Promise<void> {
    const db = await Db.open(this.options, context.connectTimeoutMs, context.namespace);
    const channel = channelFor(this.options.schema, context.namespace);
    try {
      this.#upgradedFrom = await withTimeout(
        db.tx((q) => migrate(q, this.options.schema, this.options.target)),
        context.connectTimeoutMs,
        () => new BackendUnavailableError(BACKEND_NAME, this.options.target, `not ready within connect_timeout_ms (${context.connectTimeoutMs} ms)`),
      );
    } catch (error) {
      await db.close();
      throw error;
    }
    // Pool size 1: the pool's one connection carries the LISTEN too (one connection per process; notify.ts).
    this.notify.configure(this.options, channel, context.connectTimeoutMs, context.namespace, this.options.poolSize === 1 ? db.pool : undefined);
    this.#context = { db, sql: sqlFor(this.options.schema), namespace: context.namespace, channel, target: this.options.target };
  }

  async close(): Promise<void> {
    const context = this.#context;
    this.#context = undefined;
    if (this.#logSweep) clearInterval(this.#logSweep);
    this.#logSweep = undefined;
    await this.notify.close();
    await context?.db.close();
  }

  async health(): Promise<HealthReport> {
    const c = this.#ctx();
    const started = performance.now();
    const rows = await c.db.query<{ version: string }>(`SELECT current_setting('server_version') AS version`);
    return {
      ok: true,
      backend: this.name,
      latencyMs: performance.now() - started,
      target: this.options.target,
      details: {
        serverVersion: rows[0]!.version,
        schema: this.options.schema,
        formatVersion: FORMAT_VERSION,
        ...(this.#upgradedFrom !== undefined && { openedFormat: this.#upgradedFrom }),
        poolSize: this.options.poolSize,
        poolTotal: c.db.pool.totalCount,
        poolIdle: c.db.pool.idleCount,
        poolWaiting: c.db.pool.waitingCount,
        statementTimeoutMs: this.options.statementTimeoutMs,
        listening: this.notify.connected,
      },
    };
  }

  async read(key: string): Promise<Entry | null> {
    return readEntry(this.#ctx(), key);
  }

  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    return readEntries(this.#ctx(), keys);
  }

  async write(key: string, value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    const entry = await writeEntry(this.#ctx(), key, value, options);
    this.#maybeSweep();
    return entry;
  }

  async delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    return deleteEntry(this.#ctx(), key, options);
  }

  async list(request: ListPageRequest): Promise<Entry[]> {
    return listEntries(this.#ctx(), request);
  }

  async increment(key: string, by: number): Promise<number> {
    return incrementEntry(this.#ctx(), key, by);
  }

  async tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<LockLease | null> {
    return tryLock(this.#ctx(), resource, options.ttlMs, options.owner);
  }

  async extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    return extendLock(this.#ctx(), lease, ttlMs);
  }

  async releaseLock(lease: LockLease): Promise<void> {
    return releaseLock(this.#ctx(), lease);
  }

  async listLocks(): Promise<LockLease[]> {
    return listLocks(this.#ctx());
  }

  async commit(request: CommitRequest): Promise<void> {
    return commit(this.#ctx(), request);
  }

  /** Removes the entry of `key` whatever it holds (the only way past a damaged one); raises the version floor. */
  async repair(key: string): Promise<RepairReport> {
    return repairEntry(this.#ctx(), key);
  }

  /** Calls `onChange` after any process commits a change of `key` (LISTEN/NOTIFY; see notify.ts). */
  watch(key: string, onChange: () => void): () => void {
    return this.notify.watch(key, onChange);
  }

  #ctx(): Context {
    const context = this.#context;
    if (!context) throw new StateClosedError('use the postgres backend (not open)');
    return context;
  }

  /** Deletes expired entries now and then; a failure only postpones it (the write it follows committed). */
  #maybeSweep(): void {
    const now = Date.now();
    if (now < this.#nextSweep || !this.#context) return;
    this.#nextSweep = now + SWEEP_INTERVAL_MS;
    sweepExpired(this.#context, SWEEP_LIMIT).catch(() => {
      this.#nextSweep = 0;
    });
  }

  /** Trims age-retained logs every LOG_SWEEP_INTERVAL_MS while the client is open (never keeps the process alive). */
  #startLogSweep(): void {
    if (this.#logSweep || !this.#context) return;
    let running = false;
    this.#logSweep = setInterval(() => {
      if (running || !this.#context) return;
      running = true;
      this.logs
        .sweep()
        .catch(() => undefined)
        .finally(() => {
          running = false;
        });
    }, LOG_SWEEP_INTERVAL_MS);
    this.#logSweep.unref();
  }
}

/**
 * Creates the PostgreSQL backend.
 *
 * @example
 * const state = await openState({ backend: createPostgresBackend({ url: 'postgres://app@db:5432/app', schema: 'agent_state' }) });
 */
export function createPostgresBackend(options: PostgresBackendOptions = {}): PostgresBackend {
  return new PostgresBackend(options);
}
