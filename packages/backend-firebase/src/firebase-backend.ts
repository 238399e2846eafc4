/**
 * The Firebase Realtime Database backend. Layout and escaping: layout.ts, key-names.ts. Atomic steps:
 * run-transaction.ts (one node), transaction.ts (the marker rule, multi-key commits and fenced
 * writes), lock.ts (leases), list.ts (pages by key order). Reads, warm transactions and `watch`
 * come from the per-node listeners of watch.ts; nothing follows the whole namespace.
 */
import {
  Backoff,
  BackendUnavailableError,
  ConflictError,
  InvalidValueError,
  TimeoutError,
  assertLeaseHeld,
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
import { listPage } from './list.js';
import * as locks from './lock.js';
import { Meta, TOMB_GRACE_MS } from './format.js';
import { FirebaseLogs } from './logs.js';
import { Mirrors } from './mirror.js';
import { FirebaseNotify } from './notify.js';
import { FirebaseQueues } from './queues.js';
import {
  MarkedError,
  asEntryNode,
  asLockNode,
  baseVersion,
  isTomb,
  leaseOf,
  liveEntryNode,
  liveForChange,
  nextEntryNode,
  splitMarker,
  toEntry,
  tombOf,
  unmarked,
  type EntryNode,
} from './codec.js';
import { resolveOptions, type FirebaseBackendOptions, type OptionsOrigin, type ResolvedFirebaseOptions } from './options.js';
import { NamespacePaths, entryPath, lockPath, nativePaths } from './layout.js';
import { runTransaction } from './run-transaction.js';
import { SyncCache } from './watch.js';
import { Nodes, type NodeOp } from './transaction.js';

/** Expired entries removed per `list` call at most, so a listing never turns into a long cleanup. */
const PURGE_PER_LIST = 20;

/** A `CommunicationBackend` on a Firebase Realtime Database (or an emulator of it). */
export class FirebaseBackend implements CommunicationBackend {
  readonly name = 'firebase';
  readonly capabilities: BackendCapabilities = {
    multiProcess: true,
    persistent: true,
    nativeIncrement: true,
    coordination: { queues: true, logs: true, notify: true, lockWake: true },
  };
  /** Native queues (queues.ts); usable once `init` resolved. */
  readonly queues: NativeQueues;
  /** Native logs (logs.ts); usable once `init` resolved. */
  readonly logs: NativeLogs;
  /** Wakeups from the queue and log listeners and from lock nodes' releases (notify.ts). */
  readonly notify: FirebaseNotify;
  #queues: FirebaseQueues | undefined;
  #logs: FirebaseLogs | undefined;
  #mirrors: Mirrors | undefined;
  readonly #resolved: ResolvedFirebaseOptions;
  #connection: Connection | undefined;
  #cache: SyncCache | undefined;
  #paths: NamespacePaths | undefined;
  #meta: Meta | undefined;
  #nodes: Nodes | undefined;
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
    this.notify = new FirebaseNotify(q, l, (resource, onWake) => locks.listenForRelease(this.#sc(), this.#c(), resource, onWake));
  }

  async init(context: BackendInitContext): Promise<void> {
    this.#paths = new NamespacePaths(context.namespace);
    this.#connection = await Connection.open(this.#resolved, this.#paths.root, context.connectTimeoutMs);
    this.#cache = new SyncCache(this.#connection, this.#paths.root);
    this.#nodes = new Nodes(this.#connection, this.#paths);
    try {
      this.#meta = await Meta.open(this.#connection, this.#paths.root, this.#source);
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
    this.#nodes = undefined;
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
    const bodies = await this.#readSettled(keys);
    const now = this.#c().now();
    return keys.map((key, i) => {
      const location = this.#where(key);
      const node = liveEntryNode(bodies[i], location, now);
      return node ? toEntry(key, node, location) : null;
    });
  }

  async write(key: string, _value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    const paths = this.#p();
    const location = this.#where(key);
    const path = paths.entry(key);
    await this.#sc().ready(entryPath(key));
    const change = (raw: unknown, now: number): EntryNode => {
      const live = liveForChange(raw, location, now);
      assertVersion(key, options.ifVersion, live?.v ?? null);
      return nextEntryNode(baseVersion(raw, live, this.#m().floor), options.json, now, options.ttlMs);
    };
    let node: EntryNode;
    if (options.fence) {
      const entryOp: NodeOp<EntryNode> = {
        key,
        path,
        location,
        plan: (body, now) => {
          const next = change(body, now);
          return { final: next, result: next };
        },
      };
      node = (await this.#fenced(options.fence, entryOp)) as EntryNode;
    } else {
      node = await this.#n().onNode(path, (raw, now) => {
        const next = change(unmarked(raw, path, location), now);
        return { next, result: next };
      });
    }
    // Parsed from the JSON text, like a read would return it: never the caller's own object.
    return makeEntry(key, JSON.parse(options.json) as JsonValue, node.v, node.u, node.x);
  }

  async delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    const location = this.#where(key);
    const path = this.#p().entry(key);
    await this.#sc().ready(entryPath(key));
    // A tombstone keeps the last version, so the next incarnation starts above it (format.ts).
    const change = (raw: unknown, now: number): { final: unknown; result: boolean } => {
      const live = liveForChange(raw, location, now);
      assertVersion(key, options.ifVersion, live?.v ?? null);
      return live ? { final: tombOf(live.v, now), result: true } : { final: undefined, result: false };
    };
    if (options.fence) return (await this.#fenced(options.fence, { key, path, location, plan: change })) as boolean;
    return this.#n().onNode(path, (raw, now) => {
      const { final, result } = change(unmarked(raw, path, location), now);
      return final === undefined ? { keep: true, result } : { next: final, result };
    });
  }

  async list(request: ListPageRequest): Promise<Entry[]> {
    const connection = this.#c();
    const started = performance.now();
    const backoff = new Backoff(1, 50);
    for (;;) {
      try {
        const { page, expired, tombs } = await listPage(connection, this.#p(), request);
        await this.#purgeExpired(expired.slice(0, PURGE_PER_LIST));
        await this.#sweepTombs(tombs.slice(0, PURGE_PER_LIST));
        return page;
      } catch (error) {
        if (!(error instanceof MarkedError)) throw error;
        if (performance.now() - started >= this.#n().waitMs) throw new TimeoutError(`list (${error.path} held by commit ${error.marker.i})`, this.#n().waitMs);
        await this.#n().settle(error, backoff);
      }
    }
  }

  async increment(key: string, by: number): Promise<number> {
    const location = this.#where(key);
    await this.#sc().ready(entryPath(key));
    const path = this.#p().entry(key);
    return this.#n().onNode(path, (stored, now) => {
      const raw = unmarked(stored, path, location);
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
    return locks.tryLock(this.#n(), this.#c(), this.#p(), resource, options);
  }

  async extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    this.#sc().warm(lockPath(lease.resource));
    return locks.extendLock(this.#n(), this.#c(), this.#p(), lease, ttlMs);
  }

  async releaseLock(lease: LockLease): Promise<void> {
    this.#sc().warm(lockPath(lease.resource));
    return locks.releaseLock(this.#n(), this.#c(), this.#p(), lease);
  }

  async listLocks(): Promise<LockLease[]> {
    return locks.listLocks(this.#c(), this.#p());
  }

  async commit(request: CommitRequest): Promise<void> {
    const connection = this.#c();
    if (request.writes.length === 0) {
      // Read-only: the listeners' copies are one state of the database, as recent as a
      // transaction would see, and free of markers (so no commit is half applied in them);
      // checking the versions there needs no write.
      const keys = request.reads.map((r) => r.key);
      const bodies = await this.#readSettled(keys);
      const now = connection.now();
      request.reads.forEach((read, i) => {
        const live = liveEntryNode(bodies[i], this.#where(read.key), now);
        if ((live?.v ?? null) !== read.version) {
          throw new ConflictError(read.key, read.version ?? 'absent', live?.v ?? 'absent', 'changed since the transaction read it');
        }
      });
      return;
    }
    const reads = new Map(request.reads.map((r) => [r.key, r.version] as const));
    const writes = new Map(request.writes.map((w) => [w.key, w] as const));
    const keys = [...new Set([...reads.keys(), ...writes.keys()])];
    // Transactions on the touched nodes then start from current data (one round trip each).
    await Promise.all(keys.map((key) => this.#sc().ready(entryPath(key))));
    const ops = keys.map((key): NodeOp => {
      const location = this.#where(key);
      return {
        key,
        path: this.#p().entry(key),
        location,
        plan: (body, now) => {
          const live = liveForChange(body, location, now);
          if (reads.has(key) && (live?.v ?? null) !== reads.get(key)) {
            throw new ConflictError(key, reads.get(key) ?? 'absent', live?.v ?? 'absent', 'changed since the transaction read it');
          }
          const write = writes.get(key);
          if (!write) return { final: undefined, result: undefined };
          // A delete leaves a tombstone with the last version (format.ts).
          if (write.kind === 'delete') return { final: live ? tombOf(live.v, now) : undefined, result: undefined };
          return { final: nextEntryNode(baseVersion(body, live, this.#m().floor), write.json, now, write.ttlMs), result: undefined };
        },
      };
    });
    await this.#n().commit(ops);
  }

  /**
   * Removes a damaged entry node (the only way past `CorruptDataError`), leaving a tombstone
   * above every version the node could have had. A healthy or absent entry is left alone.
   */
  async repair(key: string): Promise<RepairReport> {
    const location = this.#where(key);
    await this.#sc().ready(entryPath(key));
    const path = this.#p().entry(key);
    return this.#n().onNode<RepairReport>(path, (current, now) => {
      let damage: string;
      let raw: unknown;
      try {
        raw = unmarked(current, path, location);
      } catch (error) {
        if (error instanceof MarkedError || !(error instanceof CorruptDataError)) throw error;
        // A damaged marker: the node is replaced like any other damage.
        return { next: tombOf(Math.max(this.#m().floor, now), now), result: { key, removed: true, damage: error.message } };
      }
      try {
        liveForChange(raw, location, now);
        return { keep: true, result: { key, removed: false } };
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        damage = error.message;
      }
      const stored = typeof raw === 'object' && raw !== null ? (raw as { v?: unknown }).v : undefined;
      // Without a readable version nothing stored says how high the key's versions went: the
      // server clock in ms is above any count of writes a key can reach (one version per write),
      // so the next incarnation starts above every version the damaged node could have had.
      const known = typeof stored === 'number' && Number.isSafeInteger(stored) && stored > 0 ? stored : Math.floor(now);
      const v = Math.max(known, this.#m().floor, 1);
      return { next: tombOf(v, now), result: { key, removed: true, damage } };
    });
  }

  /**
   * Calls `onChange` when the entry node of `key` changes, from this client's listeners (see
   * watch.ts): pub/sub subscribers wake when a channel counter moves instead of at their next
   * poll. Only a hint: a listener the server cancels just stops calling, and pollers keep polling.
   */
  watch(key: string, onChange: () => void): () => void {
    return this.#sc().watch(entryPath(key), onChange);
  }

  /** Lazy expiry: entries still expired on the server become tombstones (others are left alone). */
  async #purgeExpired(keys: readonly string[]): Promise<void> {
    const paths = this.#p();
    for (const key of keys) {
      const location = this.#where(key);
      try {
        const path = paths.entry(key);
        await this.#n().onNode(path, (stored, now) => {
          const node = asEntryNode(unmarked(stored, path, location), location);
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
      // A marked tombstone is some commit's: it is left to that commit (skip, no wait).
      await runTransaction(connection, paths.entry(key), (current, now) =>
        isTomb(current) && current.v <= this.#m().floor && now - current.d >= TOMB_GRACE_MS
          ? { next: null, result: undefined }
          : { skip: true, result: undefined },
      );
    }
  }

  /**
   * A fenced write or delete: the commit protocol over the lock node (its lease must be `fence`,
   * checked under the lock's marker, so no new holder can come in before the write lands) and
   * the entry node. Resolves with the entry op's result.
   */
  async #fenced(fence: LockLease, entryOp: NodeOp): Promise<unknown> {
    const lockRel = lockPath(fence.resource);
    const path = this.#p().lock(fence.resource);
    const location = `${this.#c().target}/${lockRel}`;
    this.#sc().warm(lockRel);
    const lockOp: NodeOp = {
      key: fence.resource,
      path,
      location,
      plan: (body, now) => {
        assertLeaseHeld(fence, leaseOf(fence.resource, asLockNode(body, location)), now);
        return { final: undefined, result: undefined };
      },
    };
    const [, result] = await this.#n().commit([lockOp, entryOp]);
    return result;
  }

  /**
   * The stored entry nodes of `keys` without their markers, from one state of the database in
   * which none of them is held by a commit: a held one is waited for (or its commit recovered)
   * and all are read again, within the wait bound (then `TimeoutError`).
   */
  async #readSettled(keys: readonly string[]): Promise<unknown[]> {
    const started = performance.now();
    const backoff = new Backoff(1, 50);
    for (;;) {
      const raws = await this.#sc().read(keys.map(entryPath));
      let held: MarkedError | undefined;
      const bodies = raws.map((raw, i) => {
        const { body, marker } = splitMarker(raw, this.#where(keys[i]!));
        if (marker && !held) held = new MarkedError(this.#p().entry(keys[i]!), marker);
        return body;
      });
      if (!held) return bodies;
      if (performance.now() - started >= this.#n().waitMs) throw new TimeoutError(`read of ${held.path} (held by commit ${held.marker.i})`, this.#n().waitMs);
      await this.#n().settle(held, backoff);
    }
  }

  #n(): Nodes {
    if (!this.#nodes) throw new BackendUnavailableError(this.name, this.#resolved.target, 'the backend is not open');
    return this.#nodes;
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
