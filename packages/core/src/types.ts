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

/**
 * A lease `tryLock` just took. `replaced` is the lease of another owner it took over: one whose
 * time had run out (or whose local holder is provably gone) but whose record was still there,
 * when the backend sees it at no extra cost. Core writes such a takeover to the `audit` log.
 */
export interface AcquiredLease extends LockLease {
  replaced?: LockLease;
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
  /**
   * Native coordination families this backend implements ({@link CommunicationBackend.queues},
   * `logs`, `notify`). Core uses each one that is present and its portable path otherwise.
   * `lockWake`: `notify.listen({ kind: 'lock', name: resource })` hears every release of that
   * resource in every process, so core's lock waits sleep until a release (with a re-check timer
   * for leases that run out) instead of polling `tryLock`.
   */
  coordination?: { queues?: boolean; logs?: boolean; notify?: boolean; lockWake?: boolean };
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
  tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<AcquiredLease | null>;
  /** Pushes the lease end to now + ttlMs; `LockLostError` if it expired or was taken over. */
  extendLock(lease: LockLease, ttlMs: number): Promise<LockLease>;
  /** Frees the lease; `LockLostError` (and nothing freed) if it is no longer this holder's. */
  releaseLock(lease: LockLease): Promise<void>;
  /**
   * Every live lease of this namespace (any holder, any process), in resource order, read from
   * the lock records the backend keeps anyway: for dashboards and `agent-state top`, never for
   * deciding who holds a lock (a lease may end right after the listing). Optional: a backend
   * without it cannot enumerate its leases.
   */
  listLocks?(): Promise<LockLease[]>;

  /**
   * Applies a transaction atomically and durably: if every read still has the version recorded
   * (absent = `null`), apply every write; otherwise throw `ConflictError` and change nothing.
   * A crash at any moment leaves all writes or none.
   */
  commit(request: CommitRequest): Promise<void>;

  /** Native atomic increment (only when `capabilities.nativeIncrement`). */
  increment?(key: string, by: number): Promise<number>;

  /**
   * @deprecated Unused since the second wave: channels are logs (`ch/<name>`) on
   * {@link CommunicationBackend.logs} (or the portable logs), woken by `notify`, so delivery
   * survives a reconnect and `Last-Event-ID` can resume. Kept so that first-wave third-party
   * backends still type-check; core never calls it.
   */
  pubsub?: NativePubSub;

  /** Native queues (declared in `capabilities.coordination.queues`). */
  queues?: NativeQueues;
  /** Native append-only logs: channels, mailboxes and `state.log()` are built on them. */
  logs?: NativeLogs;
  /** Cross-process wakeups for queues and logs, so blocking waits need no polling. */
  notify?: NativeNotify;

  /**
   * Removes a damaged entry (the only way past `CorruptDataError`) and says what it replaced.
   * Raises the namespace's version floor like a delete does. A sound or absent key is left
   * alone (`removed: false`): repair never deletes data that reads.
   */
  repair?(key: string): Promise<RepairReport>;

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

/** What {@link CommunicationBackend.repair} did. */
export interface RepairReport {
  key: string;
  /** True when a damaged entry was removed. */
  removed: boolean;
  /** Where the damaged data was and what was wrong with it, when it was damaged. */
  damage?: string;
}

// ---------------------------------------------------------------------------------------------
// Native coordination (second wave). Core validates every name and value before calling these.
// Queue and log names are opaque strings that follow the key grammar (core passes names such
// as `tasks`, `ch/updates`, `mail/agent-7`, `log/audit`), so a backend may embed them in keys
// or paths as it embeds keys.
// ---------------------------------------------------------------------------------------------

/** A job as a native queue hands it to a consumer. */
export interface ClaimedJob {
  /** Backend-chosen id, unique within the queue (stable for the job's whole life). */
  id: string;
  /** The payload as core serialized it. */
  json: string;
  priority: number;
  /** Per-queue, strictly increasing in enqueue order. */
  sequence: number;
  /** Claims so far, this one included. */
  attempts: number;
  /** Id of this claim; settle acts only while it is the job's current claim. */
  leaseId: string;
  /** Epoch ms (backend clock) when this claim's lease ends unless extended. */
  leaseUntil: number;
  /** Epoch ms of the enqueue. */
  enqueuedAt: number;
}

/** What a consumer does with a claim. */
export type SettleAction = { kind: 'ack' } | { kind: 'nack'; delayMs: number } | { kind: 'extend'; leaseMs: number };

/** Job counts of one queue. */
export interface QueueCounts {
  /** Visible now and not claimed. */
  waiting: number;
  /** Claimed, lease not yet ended. */
  inFlight: number;
  /** Not yet visible (delayMs, or a nack's delay). */
  delayed: number;
  /** Moved aside after `maxAttempts` claims. */
  dead: number;
}

/** A job in any state, for migration, the dashboard and dead letters. */
export interface QueueJobRecord {
  id: string;
  json: string;
  priority: number;
  sequence: number;
  attempts: number;
  enqueuedAt: number;
  state: 'waiting' | 'delayed' | 'in-flight' | 'dead';
  /** When a delayed job becomes visible, or an in-flight lease ends (epoch ms). */
  visibleAt?: number;
}

/**
 * Native queues: one atomic step per claim, whatever the backlog or the number in flight.
 * Order: highest priority first, then lowest sequence. A claim first returns expired leases and
 * due delayed jobs to the waiting set (so at-least-once holds without a sweeper process).
 */
export interface NativeQueues {
  /** Adds a job; `delayMs` > 0 keeps it invisible that long. Wakes listeners of the queue. */
  enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }>;
  /**
   * Claims the best visible job for `leaseMs` (backend clock), counting an attempt. A job that
   * already had `maxAttempts` claims is moved to the dead letters instead and the next is tried.
   */
  claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null>;
  /** ack | nack(delayMs) | extend(leaseMs), only while `leaseId` is the job's current claim; else false. */
  settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean>;
  counts(queue: string): Promise<QueueCounts>;
  /** Jobs in every state, oldest sequence first, paged by sequence. */
  jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]>;
  /** Dead letter back to waiting (attempts reset to 0) or deleted; false when no such dead letter. */
  reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean>;
  /** Names of queues that hold at least one job, in key order. */
  names(): Promise<string[]>;
}

/** One record of a native log. */
export interface LogRecord {
  /** Strictly increasing per log across processes; readers never see a gap left by a crash. */
  seq: number;
  /** Epoch ms of the append (backend clock). */
  at: number;
  /** The record as core serialized it. */
  json: string;
}

/** How much of a log to drop. */
export type LogTrim = { before: number } | { keepLast: number } | { olderThanMs: number };

/**
 * Native append-only logs. Channels (`ch/<name>`), mailboxes (`mail/<agent>`) and user logs
 * (`log/<name>`) are built on them.
 */
export interface NativeLogs {
  /**
   * Appends atomically and durably (in order, one seq each); wakes listeners of the log. With
   * `retention`, records older than `maxAgeMs` / beyond the newest `maxLen` may be trimmed by
   * this same call (amortized: a backend need not trim on every append).
   */
  append(log: string, records: string[], options?: { retention?: { maxAgeMs?: number; maxLen?: number } }): Promise<{ seq: number; at: number }[]>;
  /** Records with seq > `after`, oldest first, at most `limit`. */
  read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]>;
  /** The last seq ever appended (0 for a log that never had a record), even if trimmed since. */
  lastSeq(log: string): Promise<number>;
  /** Drops records; returns how many. */
  trim(log: string, trim: LogTrim): Promise<number>;
  /** Drops these records (a mailbox's acks); returns how many existed. */
  remove(log: string, seqs: readonly number[]): Promise<number>;
  /** Names of logs that hold at least one record and start with `prefix`, in key order. */
  names(prefix: string): Promise<string[]>;
}

/**
 * What a wakeup is about. `lock` topics (named by the resource) are woken by every release of
 * that resource's lease (`releaseLock`, a stateless `releaseLease`, a forced release) when the
 * backend declares `capabilities.coordination.lockWake`; lock waiters then re-try at once
 * instead of at their next backoff tick.
 */
export type WakeTopic = { kind: 'queue'; name: string } | { kind: 'log'; name: string } | { kind: 'lock'; name: string };

/**
 * Cross-process wakeups. A backend's own `enqueue`, `settle` (nack) and `append` wake the
 * topic's listeners in every process (with `lockWake`, so does each release of a lock);
 * spurious wakeups are fine, missed ones are not, so a
 * waiter re-checks after `listen` resolves.
 */
export interface NativeNotify {
  /** Calls `onWake` soon after `topic` may have changed; returns the function that stops it. */
  listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>>;
}
