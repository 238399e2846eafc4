/**
 * The data model and the backend contract. `contract.md` is the spec; these types restate it.
 */

/** Any value JSON can round-trip. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One stored key. */
export interface Entry<T extends JsonValue = JsonValue> {
  key: string;
  value: T;
  /** Positive integer; strictly increases with every write of the key while it exists. */
  version: number;
  /** Epoch milliseconds of the last write. */
  updatedAt: number;
  /** Epoch milliseconds after which the entry reads as absent. */
  expiresAt?: number;
}

/** The identity of a held lock, as a backend stores it. */
export interface LockLease {
  resource: string;
  /** Unique per acquisition: `host:pid:client:n`. */
  owner: string;
  /** Fencing token: strictly increases per resource across all holders and processes. */
  token: number;
  /** Epoch milliseconds when the lease ends unless extended. */
  expiresAt: number;
}

/** `ifVersion` of a write or delete: a version number, or `'absent'` (the key must not exist). */
export type ExpectedVersion = number | 'absent';

/** Options of {@link CommunicationBackend.write}, already validated by core. */
export interface BackendWriteOptions {
  /** The value serialized by core (`JSON.stringify`), so a backend need not do it again. */
  json: string;
  /** Write only if the current version matches; otherwise throw `ConflictError`, write nothing. */
  ifVersion?: ExpectedVersion;
  /** Time to live in ms; the entry reads as absent after it. No TTL when omitted. */
  ttlMs?: number;
  /** Write only while this lease is held (owner and token match, not expired); else `LockLostError`. */
  fence?: LockLease;
}

/** Options of {@link CommunicationBackend.delete}, already validated by core. */
export interface BackendDeleteOptions {
  ifVersion?: ExpectedVersion;
  fence?: LockLease;
}

/** One page request of {@link CommunicationBackend.list}. */
export interface ListPageRequest {
  /** Only keys starting with this string. */
  prefix?: string;
  /** Only keys strictly greater than this one (keyset paging). */
  after?: string;
  /** Page size, at least 1. */
  limit: number;
}

/** A read recorded by a transaction: the version it saw (`null` = absent). */
export interface CommitRead {
  key: string;
  version: number | null;
}

/** A write or delete buffered by a transaction. */
export type CommitWrite =
  | { kind: 'write'; key: string; value: JsonValue; json: string; ttlMs?: number }
  | { kind: 'delete'; key: string };

/** What a transaction asks the backend to apply atomically. */
export interface CommitRequest {
  /** Every key the transaction read, with the version it saw; all must still match. */
  reads: CommitRead[];
  /** Writes and deletes, applied all together or not at all; at most one per key. */
  writes: CommitWrite[];
}

/** Optional native features a backend offers; core uses the portable path otherwise. */
export interface BackendCapabilities {
  /** Several OS processes may open the same store at once (false only for `memory`). */
  multiProcess: boolean;
  /** Data survives the process (false for `memory` and SQLite `:memory:`). */
  persistent: boolean;
  /** The backend implements {@link CommunicationBackend.increment} natively. */
  nativeIncrement?: boolean;
}

/** Result of {@link CommunicationBackend.health}. */
export interface HealthReport {
  ok: boolean;
  backend: string;
  /** Round trip of a trivial operation, in ms. */
  latencyMs: number;
  /** Where the backend stores data (a directory, a file, a URL); never a password. */
  target: string;
  details?: Record<string, JsonValue>;
}

/** What core hands a backend when it opens it. */
export interface BackendInitContext {
  /** Every key, lock, queue and channel lives in this namespace. */
  namespace: string;
  /** Bound on how long `init` may take before failing with `BackendUnavailableError`. */
  connectTimeoutMs: number;
}

/**
 * The required surface of a backend. Core validates every key, value and option before calling
 * it, and builds `update`, `increment`, lock waiting, transactions with retry, queues, pub/sub,
 * agents and mailboxes on top of it.
 *
 * The spec's `lock` is split into `tryLock`/`extendLock`/`releaseLock` so that waiting (backoff,
 * jitter, `waitMs`) is written once in core; its `transaction`/`begin` is `commit`, the one atomic
 * step an optimistic transaction needs (reads go through `read`, writes are buffered by core).
 */
export interface CommunicationBackend {
  /** Backend name as in `project.yml` (`file`, `sqlite`, `redis`, `firebase`, `memory`). */
  readonly name: string;
  readonly capabilities: BackendCapabilities;

  /** Connects or opens storage; fails with `BackendUnavailableError` within `connectTimeoutMs`. */
  init(context: BackendInitContext): Promise<void>;
  /** Releases every connection, timer and handle. Called once by core. */
  close(): Promise<void>;
  health(): Promise<HealthReport>;

  /** The entry, or `null` when absent or expired. A reader never sees a partial value. */
  read(key: string): Promise<Entry | null>;
  readMany(keys: readonly string[]): Promise<(Entry | null)[]>;
  /**
   * Writes atomically (old or new value, never garbage, even after kill -9) and returns the new
   * entry. Honors `ifVersion` (`ConflictError`, nothing written) and `fence` (`LockLostError`).
   */
  write(key: string, value: JsonValue, options: BackendWriteOptions): Promise<Entry>;
  /** Deletes; `true` when something was deleted. Honors `ifVersion` and `fence`. */
  delete(key: string, options: BackendDeleteOptions): Promise<boolean>;
  /** One page of live entries in key order (code-unit order), keys `> after`, with `prefix`. */
  list(request: ListPageRequest): Promise<Entry[]>;

  /**
   * One attempt to take `resource`: a new lease with a token greater than any issued before for
   * that resource, or `null` while another live holder has it. A lease whose `expiresAt` passed
   * is free to take.
   */
  tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<LockLease | null>;
  /** Pushes the lease end to now + ttlMs; `LockLostError` if it expired or was taken over. */
  extendLock(lease: LockLease, ttlMs: number): Promise<LockLease>;
  /** Frees the lease; `LockLostError` (and nothing freed) if it is no longer this holder's. */
  releaseLock(lease: LockLease): Promise<void>;

  /**
   * Applies a transaction atomically and durably: if every read still has the version recorded
   * (absent = `null`), apply every write; otherwise throw `ConflictError` and change nothing.
   * A crash at any moment leaves all writes or none.
   */
  commit(request: CommitRequest): Promise<void>;

  /** Native atomic increment (only when `capabilities.nativeIncrement`). */
  increment?(key: string, by: number): Promise<number>;

  /**
   * Native pub/sub (e.g. Redis PUBLISH/SUBSCRIBE). When present, core's `publish`/`subscribe`
   * use it instead of the polled log; it must deliver every message published after `subscribe`
   * resolved, in publish order per publisher, to every subscriber in any process.
   */
  pubsub?: NativePubSub;

  /**
   * Change notification: calls `onChange` soon after `key` may have been written by any process
   * (spurious calls are fine). Lets pollers (pub/sub on the log) wake at once instead of waiting
   * for their next tick. Returns the function that stops watching.
   */
  watch?(key: string, onChange: () => void): () => void;
}

/** See {@link CommunicationBackend.pubsub}. */
export interface NativePubSub {
  publish(channel: string, json: string): Promise<void>;
  subscribe(channel: string, onMessage: (json: string) => void): Promise<() => Promise<void>>;
}
