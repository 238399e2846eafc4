/**
 * The SQLite backend: one database file shared by every client and process, one synchronous
 * better-sqlite3 connection per client, WAL mode. Every operation is one statement or one
 * transaction, run through BusyRetry so a locked database is waited out up to a deadline.
 */
import {
  StateClosedError,
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
import { BusyRetry } from './busy.js';
import { deleteEntry, incrementEntry, listEntries, readEntries, readEntry, repairEntry, sweepExpired, writeEntry } from './entries.js';
import { isBusy } from './errors.js';
import { extendLock, listLocks, releaseLock, tryLock } from './lock.js';
import { SqliteLogs, sweepLogs } from './logs.js';
import { SqliteNotify } from './notify.js';
import { SqliteQueues, type LocalWake, type Runner } from './queues.js';
import { configure, connect, type Connection } from './connection.js';
import { resolveOptions, type ResolvedSqliteOptions, type SqliteBackendOptions } from './options.js';
import { SCHEMA_VERSION, migrate } from './layout.js';
import { createScope, type Scope } from './context.js';
import { commit } from './transaction.js';
import { WalWatcher } from './watch.js';

/** Expired rows are deleted lazily, at most this often per client, piggybacked on a write. */
const SWEEP_INTERVAL_MS = 30_000;
/** Rows one sweep deletes at most, so it stays a short statement. */
const SWEEP_LIMIT = 500;
/** How often a client that appended with an age retention trims the logs past it, in ms. */
export const LOG_SWEEP_INTERVAL_MS = 1_000;

/**
 * A client's connection to the database: implements the backend contract with prepared
 * statements (see statements.ts), waits out other processes' write locks (busy.ts), and wakes
 * pub/sub pollers on commits (watch.ts). Created by {@link createSqliteBackend}.
 */
export class SqliteBackend implements CommunicationBackend {
  readonly name = 'sqlite';
  readonly capabilities: BackendCapabilities;
  readonly #options: ResolvedSqliteOptions;
  readonly #busy: BusyRetry;
  #connection: Connection | undefined;
  #scope: Scope | undefined;
  #journalMode = 'unknown';
  #nextSweep = 0;
  readonly #watcher: WalWatcher;
  /** Wakes a topic's listeners, here and (by its bell) in other processes. */
  readonly #wake: LocalWake;
  #logSweep: NodeJS.Timeout | undefined;

  /** Native queues: one write transaction per claim, off the in-flight and delayed jobs (queues.ts). */
  readonly queues: SqliteQueues;
  /** Native append-only logs (logs.ts). */
  readonly logs: SqliteLogs;
  /** Cross-process wakeups from the WAL watch and per-topic counters (notify.ts). */
  readonly notify: SqliteNotify;

  constructor(options: SqliteBackendOptions) {
    this.#options = resolveOptions(options);
    const persistent = !this.#options.inMemory;
    this.capabilities = {
      multiProcess: persistent,
      persistent,
      nativeIncrement: true,
      coordination: { queues: true, logs: true, notify: true, lockWake: true },
    };
    this.#busy = new BusyRetry(this.#options.databasePath, this.#options.busyTimeoutMs);
    this.#watcher = new WalWatcher(persistent ? `${this.#options.databasePath}-wal` : undefined);
    const run: Runner = (work) => this.#run(work);
    const path = this.#options.databasePath;
    const wake: LocalWake = (kind, name) => {
      const scope = this.#scope;
      if (scope) SqliteNotify.wakeLocal(path, scope.namespace, kind, name);
    };
    this.#wake = wake;
    this.queues = new SqliteQueues(run, wake);
    this.logs = new SqliteLogs(run, wake, () => this.#startLogSweep());
    this.notify = new SqliteNotify(() => this.#scope, this.#watcher, path);
  }

  async init(context: BackendInitContext): Promise<void> {
    const deadline = Date.now() + context.connectTimeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    const label = 'connect_timeout_ms';
    const connection = await connect(this.#options);
    try {
      const { db } = connection;
      const path = this.#options.databasePath;
      this.#journalMode = await this.#busy.run((o) => configure(db, o), this.#options, left(), label);
      await this.#busy.run((p) => migrate(db, p), path, left(), label);
      this.#scope = await this.#busy.run((ns) => createScope(db, ns, path), context.namespace, left(), label);
      this.#connection = connection;
    } catch (error) {
      connection.release();
      throw error;
    }
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#scope = undefined;
    this.notify.close();
    if (this.#logSweep) clearInterval(this.#logSweep);
    this.#logSweep = undefined;
    this.#watcher.close();
    connection?.release();
  }

  async health(): Promise<HealthReport> {
    const started = performance.now();
    await this.#run(({ st }) => st.ping.get());
    const stats = this.#busy.stats;
    return {
      ok: true,
      backend: this.name,
      latencyMs: performance.now() - started,
      target: this.#options.databasePath,
      details: {
        journalMode: this.#journalMode,
        synchronous: this.#options.synchronous,
        schemaVersion: SCHEMA_VERSION,
        busyWaits: stats.waits,
        busyWaitTotalMs: Math.round(stats.totalWaitMs),
        busyWaitMaxMs: Math.round(stats.maxWaitMs * 100) / 100,
      },
    };
  }

  read(key: string): Promise<Entry | null> {
    return this.#run((s) => readEntry(s, key, Date.now()));
  }

  readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    return this.#run((s) => readEntries(s, keys, Date.now()));
  }

  write(key: string, value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    return this.#changed(
      this.#run((s) => {
        const now = Date.now();
        const entry = writeEntry(s, key, value, options, now);
        this.#maybeSweep(s, now);
        return entry;
      }),
    );
  }

  delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    return this.#changed(this.#run((s) => deleteEntry(s, key, options, Date.now())));
  }

  list(request: ListPageRequest): Promise<Entry[]> {
    return this.#run((s) => listEntries(s, request, Date.now()));
  }

  increment(key: string, by: number): Promise<number> {
    return this.#changed(this.#run((s) => incrementEntry(s, key, by, Date.now())));
  }

  tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<LockLease | null> {
    return this.#run((s) => tryLock(s, resource, options.ttlMs, options.owner, Date.now()));
  }

  extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    return this.#run((s) => extendLock(s, lease, ttlMs, Date.now()));
  }

  /** Frees the lease, then wakes the resource's lock topic (here and, by its bell, elsewhere) if a tryLock found it taken. */
  releaseLock(lease: LockLease): Promise<void> {
    return this.#run((s) => {
      // After the statement: it committed (autocommit), so a woken waiter's tryLock can succeed.
      if (releaseLock(s, lease, Date.now())) this.#wake('lock', lease.resource);
    });
  }

  listLocks(): Promise<LockLease[]> {
    return this.#run((s) => listLocks(s, Date.now()));
  }

  commit(request: CommitRequest): Promise<void> {
    return this.#changed(this.#run((s) => commit(s, request, Date.now())));
  }

  /** Removes the entry of `key` whatever it holds (the only way past a damaged one); raises the version floor. */
  repair(key: string): Promise<RepairReport> {
    return this.#changed(this.#run((s) => repairEntry(s, key)));
  }

  /** Wakes `onChange` soon after any process commits a write (spurious calls included; see watch.ts). */
  watch(_key: string, onChange: () => void): () => void {
    return this.#watcher.add(onChange);
  }

  /** On `:memory:`, wakes the process's watchers after a write (a file's WAL watch does it otherwise). */
  #changed<T>(result: Promise<T>): Promise<T> {
    if (!this.#options.inMemory) return result;
    return result.then((value) => {
      WalWatcher.pokeMemory();
      return value;
    });
  }

  /** Runs `work` on this client's scope, waiting out SQLITE_BUSY (`now` is read inside `work`, so a retry uses a fresh one). */
  #run<T>(work: (s: Scope) => T): Promise<T> {
    const scope = this.#scope;
    if (!scope) return Promise.reject(new StateClosedError('use the sqlite backend (not open)'));
    return this.#busy.run(work, scope);
  }

  /** Trims age-retained logs every LOG_SWEEP_INTERVAL_MS while the client is open (never keeps the process alive). */
  #startLogSweep(): void {
    if (this.#logSweep || !this.#scope) return;
    this.#logSweep = setInterval(() => {
      const scope = this.#scope;
      if (!scope) return;
      try {
        sweepLogs(scope, Date.now());
      } catch {
        // Busy or closing: the next round (or the next append) trims instead.
      }
    }, LOG_SWEEP_INTERVAL_MS);
    this.#logSweep.unref();
  }

  /**
   * Deletes expired rows now and then. Opportunistic: the write it follows has committed, so a
   * busy database only postpones the sweep to the next write (it must not fail that write).
   */
  #maybeSweep(s: Scope, now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + SWEEP_INTERVAL_MS;
    try {
      sweepExpired(s, now, SWEEP_LIMIT);
    } catch (error) {
      if (!isBusy(error)) throw error;
      this.#nextSweep = now;
    }
  }
}

/**
 * Creates the SQLite backend.
 *
 * @example
 * const state = await openState({ backend: createSqliteBackend({ databasePath: '/var/lib/team/state.db' }) });
 */
export function createSqliteBackend(options: SqliteBackendOptions): SqliteBackend {
  return new SqliteBackend(options);
}
