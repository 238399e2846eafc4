import { assertLeaseHeld, assertVersion, compareKeys, keyInPage, leaseIsLive, makeEntry } from '../backend-kit.js';
import { isExpired } from '../timing.js';
import type {
  BackendCapabilities,
  BackendDeleteOptions,
  BackendInitContext,
  BackendWriteOptions,
  CommitRequest,
  CommunicationBackend,
  Entry,
  HealthReport,
  JsonValue,
  ListPageRequest,
  AcquiredLease,
  LockLease,
  RepairReport,
} from '../types.js';

interface StoredEntry {
  json: string;
  version: number;
  updatedAt: number;
  expiresAt?: number;
}

interface Store {
  entries: Map<string, StoredEntry>;
  locks: Map<string, LockLease>;
  /** Last fencing token issued per resource; never reset, so tokens only grow. */
  fencing: Map<string, number>;
  /**
   * The namespace's version floor: raised to the version of every entry that is deleted or
   * expires, and a new key starts above it, so a version is never reused for a key (no ABA).
   */
  floor: number;
  /** `watch` listeners per key (every client of the namespace in this process shares them). */
  watchers: Map<string, Set<() => void>>;
}

const STORES_KEY = Symbol.for('agent-state.memory.stores');
type Registry = Map<string, Store>;

/** Every memory client of a process shares one store per namespace, like a server would. */
function storeFor(namespace: string): Store {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  const registry = (g[STORES_KEY] ??= new Map());
  let store = registry.get(namespace);
  if (!store) {
    store = { entries: new Map(), locks: new Map(), fencing: new Map(), floor: 0, watchers: new Map() };
    registry.set(namespace, store);
  }
  return store;
}

/**
 * The in-process backend: one process, nothing persisted. For users' own unit tests and for
 * core's tests. Every operation is synchronous under the hood, hence atomic.
 */
export class MemoryBackend implements CommunicationBackend {
  readonly name = 'memory';
  readonly capabilities: BackendCapabilities = { multiProcess: false, persistent: false };
  #store: Store | undefined;
  #namespace = 'default';

  async init(context: BackendInitContext): Promise<void> {
    this.#namespace = context.namespace;
    this.#store = storeFor(context.namespace);
  }

  async close(): Promise<void> {
    this.#store = undefined;
  }

  async health(): Promise<HealthReport> {
    return { ok: this.#store !== undefined, backend: this.name, latencyMs: 0, target: `memory:${this.#namespace}` };
  }

  async read(key: string): Promise<Entry | null> {
    return this.#read(key);
  }

  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    return keys.map((key) => this.#read(key));
  }

  async write(key: string, _value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    const store = this.#s();
    const now = Date.now();
    if (options.fence) assertLeaseHeld(options.fence, store.locks.get(options.fence.resource), now);
    const current = this.#live(key, now);
    assertVersion(key, options.ifVersion, current?.version ?? null);
    return this.#put(key, options.json, current, now, options.ttlMs);
  }

  async delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    const store = this.#s();
    const now = Date.now();
    if (options.fence) assertLeaseHeld(options.fence, store.locks.get(options.fence.resource), now);
    const current = this.#live(key, now);
    assertVersion(key, options.ifVersion, current?.version ?? null);
    if (!current) return false;
    this.#remove(key, current);
    return true;
  }

  async list(request: ListPageRequest): Promise<Entry[]> {
    const now = Date.now();
    const keys = [...this.#s().entries.keys()].filter((k) => keyInPage(k, request.prefix, request.after)).sort(compareKeys);
    const page: Entry[] = [];
    for (const key of keys) {
      if (page.length >= request.limit) break;
      const entry = this.#read(key, now);
      if (entry) page.push(entry);
    }
    return page;
  }

  async tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<AcquiredLease | null> {
    const store = this.#s();
    const now = Date.now();
    const current = store.locks.get(resource);
    if (leaseIsLive(current, now)) return null;
    const token = (store.fencing.get(resource) ?? 0) + 1;
    store.fencing.set(resource, token);
    const lease: LockLease = { resource, owner: options.owner, token, expiresAt: now + options.ttlMs };
    store.locks.set(resource, lease);
    // An expired lease still recorded (released ones are deleted): a takeover, audited by core.
    return current && current.owner !== options.owner ? { ...lease, replaced: { ...current } } : { ...lease };
  }

  async extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    const store = this.#s();
    const now = Date.now();
    assertLeaseHeld(lease, store.locks.get(lease.resource), now);
    const next = { ...lease, expiresAt: now + ttlMs };
    store.locks.set(lease.resource, next);
    return { ...next };
  }

  async releaseLock(lease: LockLease): Promise<void> {
    const store = this.#s();
    assertLeaseHeld(lease, store.locks.get(lease.resource));
    store.locks.delete(lease.resource);
  }

  async listLocks(): Promise<LockLease[]> {
    const store = this.#s();
    const now = Date.now();
    return [...store.locks.values()].filter((l) => leaseIsLive(l, now)).sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0)).map((l) => ({ ...l }));
  }

  async commit(request: CommitRequest): Promise<void> {
    const now = Date.now();
    for (const read of request.reads) {
      assertVersion(read.key, read.version ?? 'absent', this.#live(read.key, now)?.version ?? null);
    }
    for (const write of request.writes) {
      if (write.kind === 'delete') {
        const current = this.#live(write.key, now);
        if (current) this.#remove(write.key, current);
      } else this.#put(write.key, write.json, this.#live(write.key, now), now, write.ttlMs);
    }
  }

  /** Calls `onChange` after every write or delete of `key` by any client of this namespace. */
  watch(key: string, onChange: () => void): () => void {
    const watchers = this.#s().watchers;
    let set = watchers.get(key);
    if (!set) watchers.set(key, (set = new Set()));
    const listener = (): void => onChange();
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && watchers.get(key) === set) watchers.delete(key);
    };
  }

  /** Wakes the watchers of `key` once the current operation has finished. */
  #changed(key: string): void {
    const set = this.#store?.watchers.get(key);
    if (set) for (const listener of [...set]) queueMicrotask(listener);
  }

  /** Memory never holds damaged data, so there is never anything to repair: a healthy key is left alone. */
  async repair(key: string): Promise<RepairReport> {
    return { key, removed: false };
  }

  #put(key: string, json: string, current: StoredEntry | undefined, now: number, ttlMs: number | undefined): Entry {
    const stored: StoredEntry = { json, version: (current?.version ?? this.#s().floor) + 1, updatedAt: now };
    if (ttlMs !== undefined) stored.expiresAt = now + ttlMs;
    this.#s().entries.set(key, stored);
    this.#changed(key);
    return makeEntry(key, JSON.parse(json) as JsonValue, stored.version, now, stored.expiresAt);
  }

  #live(key: string, now: number): StoredEntry | undefined {
    const stored = this.#s().entries.get(key);
    if (stored && isExpired(stored.expiresAt, now)) {
      this.#remove(key, stored);
      return undefined;
    }
    return stored;
  }

  /** Deletes an entry and raises the floor to its version. */
  #remove(key: string, stored: StoredEntry): void {
    const store = this.#s();
    store.entries.delete(key);
    if (stored.version > store.floor) store.floor = stored.version;
    this.#changed(key);
  }

  #read(key: string, now = Date.now()): Entry | null {
    const stored = this.#live(key, now);
    return stored ? makeEntry(key, JSON.parse(stored.json) as JsonValue, stored.version, stored.updatedAt, stored.expiresAt) : null;
  }

  #s(): Store {
    if (!this.#store) throw new Error('memory backend used before init or after close');
    return this.#store;
  }
}

/**
 * How many records the memory store of `namespace` holds (expired entries still count until
 * they are next touched): the retention contract test's storage count.
 */
export function memoryStoreCount(namespace: string): number {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  const store = g[STORES_KEY]?.get(namespace);
  return store ? store.entries.size + store.locks.size : 0;
}

/** Creates the in-process memory backend. */
export function createMemoryBackend(): MemoryBackend {
  return new MemoryBackend();
}
