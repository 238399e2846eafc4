/**
 * The Firebase Realtime Database backend. Layout and escaping: paths.ts. Atomic steps:
 * run-transaction.ts (single nodes), transaction.ts (commits, fenced writes), lock.ts (leases).
 * Reads, lists, warm transactions and `watch` come from the listeners of sync-cache.ts.
 */
import {
  BackendUnavailableError,
  InvalidValueError,
  assertVersion,
  isExpired,
  isStateError,
  makeEntry,
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
  type NativeLogs,
  type NativeQueues,
  CorruptDataError,
} from '@agent-state/core';
import { Connection } from './connection.js';
import { firstCandidate, ListIndex } from './list-index.js';
import * as locks from './lock.js';
import { Meta, TOMB_GRACE_MS } from './format.js';
import { FirebaseLogs } from './logs.js';
import { Mirrors } from './mirror.js';
import { FirebaseNotify } from './notify.js';
import { FirebaseQueues } from './queues.js';
import { asEntryNode, baseVersion, isTomb, liveEntryNode, liveForChange, nextEntryNode, toEntry, tombOf, type EntryNode } from './nodes.js';
import { resolveOptions, type FirebaseBackendOptions, type OptionsOrigin, type ResolvedFirebaseOptions } from './options.js';
import { ENTRIES, NamespacePaths, entryPath, lockPath, nativePaths } from './paths.js';
import { runTransaction } from './run-transaction.js';
import { SyncCache } from './sync-cache.js';
import { checkReads, commit, fencedDelete, fencedWrite } from './transaction.js';

/** Expired entries removed per `list` call at most, so a listing never turns into a long cleanup. */
const PURGE_PER_LIST = 20;

/** A `CommunicationBackend` on a Firebase Realtime Database (or an emulator of it). */
export class FirebaseBackend implements CommunicationBackend {
  readonly name = 'firebase';
  readonly capabilities: BackendCapabilities = {
    multiProcess: true,
    persistent: true,
    nativeIncrement: true,
    coordination: { queues: true, logs: true, notify: true },
  };
  /** Native queues (queues.ts); usable once `init` resolved. */
  readonly queues: NativeQueues;
  /** Native logs (logs.ts); usable once `init` resolved. */
  readonly logs: NativeLogs;
  /** Wakeups from the queue and log listeners (notify.ts). */
  readonly notify: FirebaseNotify;
  #queues: FirebaseQueues | undefined;
  #logs: FirebaseLogs | undefined;
  #mirrors: Mirrors | undefined;
  readonly #resolved: ResolvedFirebaseOptions;
  readonly #index = new ListIndex();
  #connection: Connection | undefined;
  #cache: SyncCache | undefined;
  #paths: NamespacePaths | undefined;
  #meta: Meta | undefined;
  readonly #source: string;

  /** Validates the options and loads the credential; no network I/O until {@link init}. */
  constructor(options: FirebaseBackendOptions = {}, origin?: OptionsOrigin) {
    this.#resolved = resolveOptions(options, process.env, origin);
    this.#source = origin?.source ?? 'options';
    const q = (): FirebaseQueues => this.#open(this.#queues);
    const l = (): FirebaseLogs => this.#open(this.#logs);
    this.queues = {
      enqueue: (...a) => q().enqueue(...a),
      claim: (...a) => q().claim(...a),
      settle: (...a) => q().settle(...a),
      counts: (...a) => q().counts(...a),
      jobs: (...a) => q().jobs(...a),
      reviveDead: (...a) => q().reviveDead(...a),
      names: () => q().names(),
    };
    this.logs = {
      append: (...a) => l().append(...a),
      read: (...a) => l().read(...a),
      lastSeq: (...a) => l().lastSeq(...a),
      trim: (...a) => l().trim(...a),
      remove: (...a) => l().remove(...a),
      names: (...a) => l().names(...a),
    };
    this.notify = new FirebaseNotify(q, l);
  }

  async init(context: BackendInitContext): Promise<void> {
    this.#paths = new NamespacePaths(context.namespace);
    this.#connection = await Connection.open(this.#resolved, this.#paths.root, context.connectTimeoutMs);
    this.#cache = new SyncCache(this.#connection, this.#paths.root);
    try {
      this.#meta = await Meta.open(this.#connection, this.#paths.root, this.#cache, this.#source);
      this.#mirrors = new Mirrors(this.#connection);
      const native = nativePaths(this.#paths.root);
      this.#queues = new FirebaseQueues(this.#connection, native, this.#mirrors);
      this.#logs = new FirebaseLogs(this.#connection, native, this.#mirrors);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#meta?.close();
    this.#meta = undefined;
    this.#mirrors?.close();
    this.#mirrors = undefined;
    this.#queues = undefined;
    this.#logs = undefined;
    this.#cache?.close();
    this.#cache = undefined;
    await connection?.close();
  }

  async health(): Promise<HealthReport> {
    const connection = this.#c();
    const started = Date.now();
    const details: Record<string, JsonValue> = {
      emulator: this.#resolved.emulatorHost !== undefined,
      serverTimeOffsetMs: connection.serverTimeOffsetMs,
    };
    let ok = true;
    try {
      await connection.sync();
    } catch (error) {
      ok = false;
      details.error = String(error);
    }
    return { ok: ok && connection.connected, backend: this.name, latencyMs: Date.now() - started, target: connection.target, details };
  }

  async read(key: string): Promise<Entry | null> {
    const [entry] = await this.readMany([key]);
    return entry ?? null;
  }

  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    const raws = await this.#sc().read(keys.map(entryPath));
    const now = this.#c().now();
    return keys.map((key, i) => {
      const location = this.#where(key);
      const node = liveEntryNode(raws[i], location, now);
      return node ? toEntry(key, node, location) : null;
    });
  }

  async write(key: string, _value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    const connection = this.#c();
    const paths = this.#p();
    let node: EntryNode;
    if (options.fence) {
      await this.#sc().mirror();
      node = await fencedWrite(connection, paths, key, { ...options, fence: options.fence }, () => this.#m().floor);
    } else {
      const location = this.#where(key);
      await this.#sc().ready(entryPath(key));
      node = await runTransaction(connection, paths.entry(key), (raw, now) => {
        const live = liveForChange(raw, location, now);
        assertVersion(key, options.ifVersion, live?.v ?? null);
        const next = nextEntryNode(baseVersion(raw, live, this.#m().floor), options.json, now, options.ttlMs);
        return { next, result: next };
      });
    }
    // Parsed from the JSON text, like a read would return it: never the caller's own object.
    return makeEntry(key, JSON.parse(options.json) as JsonValue, node.v, node.u, node.x);
  }

  async delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    const connection = this.#c();
    const paths = this.#p();
    if (options.fence) {
      await this.#sc().mirror();
      return fencedDelete(connection, paths, key, { ...options, fence: options.fence });
    }
    const location = this.#where(key);
    await this.#sc().ready(entryPath(key));
    return runTransaction(connection, paths.entry(key), (raw, now) => {
      const live = liveForChange(raw, location, now);
      assertVersion(key, options.ifVersion, live?.v ?? null);
      // A tombstone keeps the last version, so the next incarnation starts above it (format.ts).
      if (!live) return { keep: true, result: false };
      return { next: tombOf(live.v, now), result: true };
    });
  }

  async list(request: ListPageRequest): Promise<Entry[]> {
    const connection = this.#c();
    const root = await this.#sc().namespace();
    const now = connection.now();
    const keys = this.#index.keys(root);
    const page: Entry[] = [];
    const expired: string[] = [];
    const tombs: string[] = [];
    for (let i = firstCandidate(keys, request.prefix, request.after); i < keys.length && page.length < request.limit; i++) {
      const { key, name } = keys[i]!;
      if (request.prefix !== undefined && !key.startsWith(request.prefix)) break;
      const location = `${connection.target}/${entryPath(key)}`;
      const raw: unknown = root.child(`${ENTRIES}/${name}`).val();
      const node = asEntryNode(raw, location);
      if (!node) {
        if (isTomb(raw) && now - raw.d >= TOMB_GRACE_MS) tombs.push(key);
        continue;
      }
      if (isExpired(node.x, now)) expired.push(key);
      else page.push(toEntry(key, node, location));
    }
    await this.#purgeExpired(expired.slice(0, PURGE_PER_LIST));
    await this.#sweepTombs(tombs.slice(0, PURGE_PER_LIST));
    return page;
  }

  async increment(key: string, by: number): Promise<number> {
    const connection = this.#c();
    const location = this.#where(key);
    await this.#sc().ready(entryPath(key));
    return runTransaction(connection, this.#p().entry(key), (raw, now) => {
      const live = liveForChange(raw, location, now);
      const value = live ? toEntry(key, live, location).value : 0;
      // JSON null included: only an absent key counts as 0.
      if (typeof value !== 'number') throw new InvalidValueError(key, value, 'increment expected the key to hold a number');
      const sum = value + by;
      if (!Number.isFinite(sum)) throw new InvalidValueError('by', by, `the sum ${sum} is not a finite number`);
      const next: EntryNode = { j: JSON.stringify(sum), v: baseVersion(raw, live, this.#m().floor) + 1, u: now };
      // Like update(): an increment keeps the key's expiry.
      if (live?.x !== undefined) next.x = live.x;
      return { next, result: sum };
    });
  }

  async tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<LockLease | null> {
    this.#sc().warm(lockPath(resource));
    return locks.tryLock(this.#c(), this.#p(), resource, options);
  }

  async extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    this.#sc().warm(lockPath(lease.resource));
    return locks.extendLock(this.#c(), this.#p(), lease, ttlMs);
  }

  async releaseLock(lease: LockLease): Promise<void> {
    this.#sc().warm(lockPath(lease.resource));
    return locks.releaseLock(this.#c(), this.#p(), lease);
  }

  async commit(request: CommitRequest): Promise<void> {
    const connection = this.#c();
    if (request.writes.length === 0) {
      // Read-only: the mirror after a barrier is one state of the database, as recent as a
      // transaction would see; checking the versions there needs no write.
      const root = await this.#sc().namespace();
      checkReads(connection, request.reads, (name) => root.child(`${ENTRIES}/${name}`).val(), connection.now());
      return;
    }
    // The commit runs on the entries node: with the mirror it starts from current data.
    await this.#sc().mirror();
    return commit(connection, this.#p(), request, () => this.#m().floor);
  }

  /**
   * Removes a damaged entry node (the only way past `CorruptDataError`), leaving a tombstone
   * above every version the node could have had. A healthy or absent entry is left alone.
   */
  async repair(key: string): Promise<RepairReport> {
    const connection = this.#c();
    const location = this.#where(key);
    await this.#sc().ready(entryPath(key));
    return runTransaction<RepairReport>(connection, this.#p().entry(key), (raw, now) => {
      let damage: string;
      try {
        liveForChange(raw, location, now);
        return { keep: true, result: { key, removed: false } };
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        damage = error.message;
      }
      const stored = typeof raw === 'object' && raw !== null ? (raw as { v?: unknown }).v : undefined;
      const v = Math.max(typeof stored === 'number' && Number.isSafeInteger(stored) && stored > 0 ? stored : 0, this.#m().floor, 1);
      return { next: tombOf(v, now), result: { key, removed: true, damage } };
    });
  }

  /**
   * Calls `onChange` when the entry node of `key` changes, from this client's listeners (see
   * sync-cache.ts): pub/sub subscribers wake when a channel counter moves instead of at their next
   * poll. Only a hint: a listener the server cancels just stops calling, and pollers keep polling.
   */
  watch(key: string, onChange: () => void): () => void {
    return this.#sc().watch(entryPath(key), onChange);
  }

  /** Lazy expiry: entries still expired on the server become tombstones (others are left alone). */
  async #purgeExpired(keys: readonly string[]): Promise<void> {
    const connection = this.#c();
    const paths = this.#p();
    for (const key of keys) {
      const location = this.#where(key);
      try {
        await runTransaction(connection, paths.entry(key), (raw, now) => {
          const node = asEntryNode(raw, location);
          return node && isExpired(node.x, now) ? { next: tombOf(node.v, now), result: undefined } : { skip: true, result: undefined };
        });
      } catch (error) {
        // Housekeeping only: damaged nodes are reported by reads, not by a listing's cleanup.
        if (!isStateError(error) || error.code === 'BACKEND_UNAVAILABLE') throw error;
      }
    }
  }

  /**
   * Removes tombstones older than the grace: the floor is raised to each one's version first, so
   * the floor never falls below a version whose node is gone (format.ts).
   */
  async #sweepTombs(keys: readonly string[]): Promise<void> {
    const connection = this.#c();
    const paths = this.#p();
    for (const key of keys) {
      const raw: unknown = (await this.#sc().read([entryPath(key)]))[0];
      if (!isTomb(raw)) continue;
      await this.#m().raise(raw.v);
      await runTransaction(connection, paths.entry(key), (current, now) =>
        isTomb(current) && current.v <= this.#m().floor && now - current.d >= TOMB_GRACE_MS
          ? { next: null, result: undefined }
          : { skip: true, result: undefined },
      );
    }
  }

  #open<T>(family: T | undefined): T {
    if (!family) throw new BackendUnavailableError(this.name, this.#resolved.target, 'the backend is not open (init not called, or closed)');
    return family;
  }

  #m(): Meta {
    if (!this.#meta) throw new BackendUnavailableError(this.name, this.#resolved.target, 'the backend is not open');
    return this.#meta;
  }

  #c(): Connection {
    if (!this.#connection) {
      throw new BackendUnavailableError(this.name, this.#resolved.target, 'the backend is not open (init not called, or closed)');
    }
    return this.#connection;
  }

  /** Where an entry node is, for `CorruptDataError`. */
  #where(key: string): string {
    return `${this.#c().target}/${entryPath(key)}`;
  }

  #sc(): SyncCache {
    if (!this.#cache) throw new BackendUnavailableError(this.name, this.#resolved.target, 'the backend is not open');
    return this.#cache;
  }

  #p(): NamespacePaths {
    if (!this.#paths) throw new BackendUnavailableError(this.name, this.#resolved.target, 'the backend is not open');
    return this.#paths;
  }
}
