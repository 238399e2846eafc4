import { metricsOf, type MetricsSnapshot } from './metrics/metrics.js';
import type { ResolvedConfig } from './config/load.js';
import { Agents } from './coordination/agents.js';
import { RESERVED_PREFIX } from './coordination/layout.js';
import { Mailbox } from './coordination/mailbox.js';
import { closeFamilies, families } from './coordination/families.js';
import { Log } from './coordination/log.js';
import {
  ChannelFollower,
  checkSubscribe,
  publish,
  subscriptionOf,
  type ChannelMessage,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './coordination/pubsub.js';
import { Queue, type QueueOptions } from './coordination/queue.js';
import { assertSignal, blockingWait } from './coordination/wait.js';
import { InvalidValueError, LockLostError, LockTimeoutError, NotSupportedError, StateClosedError, TimeoutError } from './errors.js';
import { Lock } from './lock.js';
import { REMOTE_OWNER_PREFIX, lockOwnerId, newClientId } from './owner.js';
import { retryOnConflict, waitForLock, type LockWake } from './retry.js';
import { Transaction } from './transaction.js';
import type { AcquiredLease, BackendWriteOptions, CommunicationBackend, Entry, ExpectedVersion, HealthReport, JsonValue, LockLease, RepairReport } from './types.js';
import { auditTakeover } from './metrics/audit.js';
import {
  assertBoolean,
  assertExpectedVersion,
  assertKey,
  assertOptions,
  assertPositive,
  assertPrefix,
  serializeValue,
} from './validate.js';

/** Options of {@link StateClient.write}. */
export interface WriteOptions {
  /** Write only if the current version is this one (`'absent'`: only if the key does not exist). */
  ifVersion?: ExpectedVersion;
  /** Time to live in ms: the entry reads as absent afterwards. */
  ttlMs?: number;
  /** Write only while this lock is held; `LockLostError` once it is not. */
  fence?: Lock | LockLease;
}

/** Options of {@link StateClient.delete}. */
export interface DeleteOptions {
  ifVersion?: ExpectedVersion;
  fence?: Lock | LockLease;
}

/** Options of {@link StateClient.list}. */
export interface ListOptions {
  /** Only keys that start with this string. */
  prefix?: string;
  /** Only keys after this one, for paging. */
  after?: string;
  /** At most this many entries. */
  limit?: number;
}

/** Options of {@link StateClient.lock}. */
export interface LockOptions {
  /** Lease length in ms; default 30 000 (or `lock_timeout` seconds from project.yml). */
  ttlMs?: number;
  /** How long to wait for a busy lock before `LockTimeoutError`; default 10 000, 0 = one try. */
  waitMs?: number;
  /**
   * The lease is held for someone outside this process (a server taking it for a remote agent):
   * its owner id names no local process, so only its ttl frees it, never a backend's "holder
   * process is gone" shortcut (a crashed server must not free a living agent's lock).
   */
  remote?: boolean;
}

/** Options of {@link StateClient.waitFor}. */
export interface WaitForOptions {
  /** How long to wait before `TimeoutError`; default 30 000 ms. */
  timeoutMs?: number;
  /** Aborting it rejects the wait with the signal's reason. */
  signal?: AbortSignal;
}

/** The identity of a lease, enough to release it from a stateless server. */
export interface LeaseRef {
  resource: string;
  token: number;
  owner: string;
}

/** Options of {@link StateClient.transaction} and {@link StateClient.update}. */
export interface RetryOptions {
  /** Re-runs on conflict before giving up with `ConflictError`; default 10 (update: 100). */
  maxRetries?: number;
}

/** Options of {@link StateClient.update}. */
export interface UpdateOptions extends RetryOptions {
  /** New time to live in ms; without it the entry keeps the time it had left. */
  ttlMs?: number;
}

const LIST_PAGE = 256;
const WRITE_OPTIONS: readonly string[] = ['ifVersion', 'ttlMs', 'fence'];
const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_TX_RETRIES = 10;
const DEFAULT_UPDATE_RETRIES = 100;
const DEFAULT_WAIT_FOR_MS = 30_000;
/** `waitFor` without `backend.watch` re-reads the key at most this far apart. */
const WAIT_FOR_POLL_MS = 100;

/**
 * The client every agent uses: one API over any backend. Validates every input before I/O,
 * builds `update`, `increment`, lock waiting and transactions on the backend's small surface.
 * Create it with `openState()`.
 */
export class StateClient implements AsyncDisposable {
  /** Unique id of this client: `host:pid:random`. */
  readonly clientId = newClientId();
  #closed: Promise<void> | undefined;
  #lockCount = 0;
  #agents: Agents | undefined;
  readonly #subscriptions = new Set<ChannelFollower>();
  readonly #closing = new AbortController();
  /** See {@link StateClient.#lockWake}: null once known that the backend announces no releases. */
  #lockWakes: LockWake | null | undefined;

  /** @internal Use `openState()`. */
  constructor(
    /**
     * @internal The backend under this client, for core itself. Tools that need the storage
     * surface use `backendOf(state)` from `@agent-state/core/backend`; applications use the client.
     */
    readonly backend: CommunicationBackend,
    /** The validated configuration it was opened with. */
    readonly config: ResolvedConfig,
  ) {}

  /** Backend name (`file`, `sqlite`, `redis`, `firebase`, `memory`). */
  get backendName(): string {
    return this.backend.name;
  }
  /** The namespace every key of this client lives in. */
  get namespace(): string {
    return this.config.namespace;
  }
  /**
   * This client's metrics (calls, errors by code, latency per backend operation; locks, queues,
   * logs; leases held), or `undefined` when opened with `metrics: false`. See `metricsOf`.
   */
  metrics(): MetricsSnapshot | undefined {
    return metricsOf(this)?.snapshot();
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * The entry of `key`, or `null` when absent or expired.
   * @throws InvalidKeyError
   * @throws CorruptDataError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  read<T extends JsonValue = JsonValue>(key: string): Promise<Entry<T> | null> {
    // Not an async function: the backend's own promise is returned (no extra frame and hop on
    // the hottest call); every failure, a synchronous one included, is still a rejection.
    try {
      this.guard('read');
      assertKey(key);
      // Promise.resolve returns a native promise as it is, and makes anything else one.
      return Promise.resolve(this.backend.read(key)) as Promise<Entry<T> | null>;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Entries of several keys, in the same order (`null` for absent ones).
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws CorruptDataError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    this.guard('readMany');
    if (!Array.isArray(keys)) throw new InvalidValueError('keys', keys, 'expected an array of keys');
    keys.forEach((key, i) => assertKey(key, `keys[${i}]`));
    if (keys.length === 0) return [];
    return this.backend.readMany(keys);
  }

  /**
   * Writes `value` atomically and returns the new entry. With `ifVersion`, a compare-and-set:
   * `ConflictError` (nothing written) unless the current version matches.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws ConflictError (ifVersion did not match)
   * @throws LockLostError (fence no longer held)
   * @throws CorruptDataError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  write<T extends JsonValue>(key: string, value: T, options?: WriteOptions): Promise<Entry<T>> {
    // Not an async function, like read(): every failure is still a rejection.
    try {
      this.guard('write');
      assertKey(key);
      const json = serializeValue(value, this.config.maxValueBytes);
      // A plain write (no options) builds one small object; no option checks to run.
      if (options === undefined) return Promise.resolve(this.backend.write(key, value, { json })) as Promise<Entry<T>>;
      assertOptions(options, 'options', WRITE_OPTIONS);
      assertExpectedVersion(options.ifVersion);
      assertPositive(options.ttlMs, 'options.ttlMs');
      const fence = this.#fence(options.fence);
      const request: BackendWriteOptions = { json };
      if (options.ifVersion !== undefined) request.ifVersion = options.ifVersion;
      if (options.ttlMs !== undefined) request.ttlMs = options.ttlMs;
      if (fence) request.fence = fence;
      return Promise.resolve(this.backend.write(key, value, request)) as Promise<Entry<T>>;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Deletes `key`; `true` when it existed. Honors `ifVersion` and `fence` like `write`.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws ConflictError
   * @throws LockLostError
   * @throws CorruptDataError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async delete(key: string, options?: DeleteOptions): Promise<boolean> {
    this.guard('delete');
    assertKey(key);
    assertOptions(options, 'options', ['ifVersion', 'fence']);
    assertExpectedVersion(options?.ifVersion);
    const fence = this.#fence(options?.fence);
    return this.backend.delete(key, {
      ...(options?.ifVersion !== undefined && { ifVersion: options.ifVersion }),
      ...(fence && { fence }),
    });
  }

  /**
   * Live entries in key order, paged from the backend. A key that exists for the whole listing
   * is returned exactly once, even while other keys are written. Coordination's own keys (under
   * `@…`) appear only when `prefix` starts with `@`.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async *list(options?: ListOptions): AsyncGenerator<Entry> {
    this.guard('list');
    assertOptions(options, 'options', ['prefix', 'after', 'limit']);
    if (options?.prefix !== undefined) assertPrefix(options.prefix, 'options.prefix');
    if (options?.after !== undefined) assertPrefix(options.after, 'options.after');
    assertPositive(options?.limit, 'options.limit', { integer: true });
    // Coordination keeps its state under top-level segments starting with "@"; they are listed
    // only when the prefix asks for them.
    const hideInternal = !options?.prefix?.startsWith(RESERVED_PREFIX);
    let remaining = options?.limit ?? Number.POSITIVE_INFINITY;
    let after = options?.after;
    for (;;) {
      this.guard('list');
      const limit = Math.min(LIST_PAGE, remaining);
      const page = await this.backend.list({
        limit,
        ...(options?.prefix !== undefined && { prefix: options.prefix }),
        ...(after !== undefined && { after }),
      });
      for (const entry of page) {
        if (hideInternal && entry.key.startsWith(RESERVED_PREFIX)) continue;
        yield entry;
        if (--remaining <= 0) return;
      }
      if (page.length < limit) return;
      after = page[page.length - 1]?.key;
    }
  }

  /**
   * Atomic read-modify-write: calls `fn` with the current entry and writes what it returns,
   * retrying on conflict. Returning `undefined` leaves the key as it is.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws ConflictError (after maxRetries)
   * @throws CorruptDataError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async update<T extends JsonValue = JsonValue>(
    key: string,
    fn: (current: Entry<T> | null) => T | undefined | Promise<T | undefined>,
    options?: UpdateOptions,
  ): Promise<Entry<T> | null> {
    this.guard('update');
    assertKey(key);
    if (typeof fn !== 'function') throw new InvalidValueError('fn', fn, 'expected a function');
    assertOptions(options, 'options', ['maxRetries', 'ttlMs']);
    assertPositive(options?.maxRetries, 'options.maxRetries', { integer: true, allowZero: true });
    assertPositive(options?.ttlMs, 'options.ttlMs');
    return retryOnConflict(async () => {
      const current = (await this.read<T>(key)) as Entry<T> | null;
      const next = await fn(current);
      if (next === undefined) return current;
      let ttlMs = options?.ttlMs;
      if (ttlMs === undefined && current?.expiresAt !== undefined) ttlMs = Math.max(1, current.expiresAt - Date.now());
      const write: WriteOptions = { ifVersion: current?.version ?? 'absent' };
      if (ttlMs !== undefined) write.ttlMs = ttlMs;
      return this.write<T>(key, next, write);
    }, options?.maxRetries ?? DEFAULT_UPDATE_RETRIES);
  }

  /**
   * Adds `by` (default 1) to a numeric key atomically; an absent key counts as 0.
   * @throws InvalidKeyError
   * @throws InvalidValueError (by, or the key holds a non-number)
   * @throws ConflictError
   * @throws CorruptDataError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async increment(key: string, by = 1): Promise<number> {
    this.guard('increment');
    assertKey(key);
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new InvalidValueError('by', by, 'expected a finite number');
    if (this.backend.increment && this.backend.capabilities.nativeIncrement) return this.backend.increment(key, by);
    const entry = await this.update<number>(key, (current) => {
      // Absent counts as 0; anything else that is not a number (JSON null included) is refused,
      // the same on every backend.
      const value = current === null ? 0 : current.value;
      if (typeof value !== 'number') {
        throw new InvalidValueError(key, value, 'increment expected the key to hold a number');
      }
      return value + by;
    });
    return entry?.value ?? 0;
  }

  /**
   * Takes the lock on `resource` (a lease with a fencing token), waiting up to `waitMs` with
   * jittered backoff; `LockTimeoutError` when that passes.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws LockTimeoutError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async lock(resource: string, options?: LockOptions): Promise<Lock> {
    this.guard('lock');
    assertKey(resource, 'resource');
    assertOptions(options, 'options', ['ttlMs', 'waitMs', 'remote']);
    assertPositive(options?.ttlMs, 'options.ttlMs');
    assertPositive(options?.waitMs, 'options.waitMs', { allowZero: true });
    assertBoolean(options?.remote, 'options.remote');
    const ttlMs = options?.ttlMs ?? this.config.lockTtlMs;
    const owner = this.#owner(options?.remote === true);
    const taken: AcquiredLease = await waitForLock(
      resource,
      options?.waitMs ?? DEFAULT_WAIT_MS,
      () => {
        this.guard('lock');
        return this.backend.tryLock(resource, { ttlMs, owner });
      },
      this.#lockWake(),
    );
    const lease = taken.replaced ? await this.#tookOver(taken, taken.replaced) : taken;
    return new Lock(this.backend, lease, ttlMs, (op) => this.guard(op));
  }

  /**
   * Takes every lock in `resources` or none: in sorted order (so two callers with overlapping
   * sets never deadlock), each with its own lease and fencing token, within one `waitMs` for all
   * of them. On `LockTimeoutError` (or any error) the locks taken so far are released first.
   * Returns the locks in sorted resource order.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws LockTimeoutError (none held afterwards)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async lockMany(resources: readonly string[], options?: LockOptions): Promise<Lock[]> {
    this.guard('lock');
    if (!Array.isArray(resources) || resources.length === 0) {
      throw new InvalidValueError('resources', resources, 'expected a non-empty array of resource names');
    }
    resources.forEach((r, i) => assertKey(r, `resources[${i}]`));
    assertOptions(options, 'options', ['ttlMs', 'waitMs', 'remote']);
    assertPositive(options?.ttlMs, 'options.ttlMs');
    assertPositive(options?.waitMs, 'options.waitMs', { allowZero: true });
    assertBoolean(options?.remote, 'options.remote');
    const sorted = [...new Set(resources)].sort();
    const ttlMs = options?.ttlMs ?? this.config.lockTtlMs;
    const waitMs = options?.waitMs ?? DEFAULT_WAIT_MS;
    const deadline = performance.now() + waitMs;
    const held: Lock[] = [];
    try {
      for (const resource of sorted) {
        const owner = this.#owner(options?.remote === true);
        const remaining = Math.max(0, deadline - performance.now());
        const taken: AcquiredLease = await waitForLock(
          resource,
          remaining,
          () => {
            this.guard('lock');
            return this.backend.tryLock(resource, { ttlMs, owner });
          },
          this.#lockWake(),
        );
        const lease = taken.replaced ? await this.#tookOver(taken, taken.replaced) : taken;
        held.push(new Lock(this.backend, lease, ttlMs, (op) => this.guard(op)));
      }
      // All or none also in time: with waitMs > ttlMs the first leases may have lapsed while
      // the last ones were awaited; handing them back would give the caller a set it does not hold.
      const lapsed = held.find((lock) => lock.expiresAt <= Date.now());
      if (lapsed) throw new LockTimeoutError(lapsed.resource, waitMs);
      return held;
    } catch (error) {
      // All or none: give back what was taken (a lease that lapsed meanwhile is already free).
      await Promise.allSettled(held.map((lock) => lock.release()));
      throw error;
    }
  }

  /**
   * Frees a lease known only by its identity (a stateless server releasing for its caller).
   * `LockLostError` if that lease is no longer held.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws LockLostError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async releaseLease(lease: LeaseRef): Promise<void> {
    this.guard('release a lock');
    const ref = this.#leaseRef(lease, 'lease');
    await this.backend.releaseLock({ ...ref, expiresAt: Number.MAX_SAFE_INTEGER });
  }

  /**
   * Extends a lease known only by its identity to now + `ttlMs`; returns the new lease.
   * `LockLostError` if it is no longer held.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws LockLostError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async extendLease(lease: LeaseRef, ttlMs: number): Promise<LockLease> {
    this.guard('extend a lock');
    const ref = this.#leaseRef(lease, 'lease');
    if (ttlMs === undefined) throw new InvalidValueError('ttlMs', ttlMs, 'expected a number > 0');
    assertPositive(ttlMs, 'ttlMs');
    return this.backend.extendLock({ ...ref, expiresAt: Number.MAX_SAFE_INTEGER }, ttlMs);
  }

  /**
   * Resolves with the first entry of `key` (or `null` when absent) for which `predicate` is
   * true: checked at once and after every change of `key` (the backend's `watch` where it has
   * one, else re-reads at most 100 ms apart). `TimeoutError` after `timeoutMs`; an aborted
   * `signal` rejects with its reason; an error thrown by `predicate` rejects with it.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws TimeoutError
   * @throws StateClosedError
   * @throws the signal's reason when aborted
   */
  async waitFor<T extends JsonValue = JsonValue>(
    key: string,
    predicate: (entry: Entry<T> | null) => boolean,
    options?: WaitForOptions,
  ): Promise<Entry<T> | null> {
    this.guard('wait for a key');
    assertKey(key);
    if (typeof predicate !== 'function') throw new InvalidValueError('predicate', predicate, 'expected a function');
    assertOptions(options, 'options', ['timeoutMs', 'signal']);
    assertPositive(options?.timeoutMs, 'options.timeoutMs', { allowZero: true });
    assertSignal(options?.signal);
    const timeoutMs = options?.timeoutMs ?? DEFAULT_WAIT_FOR_MS;
    const watch = this.backend.watch?.bind(this.backend);
    const result = await blockingWait<{ entry: Entry<T> | null }>({
      check: async () => {
        this.guard('wait for a key');
        const entry = await this.read<T>(key);
        return predicate(entry) ? { entry } : undefined;
      },
      listen: async (onWake) => {
        const stop = watch?.(key, onWake);
        return async () => stop?.();
      },
      waitMs: timeoutMs,
      // watch covers writes; the timer also covers a TTL running out.
      maxRecheckMs: watch ? 1_000 : WAIT_FOR_POLL_MS,
      signal: options?.signal,
      closeSignal: this.closeSignal,
    });
    if (!result) throw new TimeoutError(`waitFor(${JSON.stringify(key)})`, timeoutMs);
    return result.entry;
  }

  /**
   * Removes a damaged entry, the only way past `CorruptDataError`, and says what it replaced.
   * `NotSupportedError` on a backend without repair.
   * @throws InvalidKeyError
   * @throws NotSupportedError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async repair(key: string): Promise<RepairReport> {
    this.guard('repair');
    assertKey(key);
    if (!this.backend.repair) throw new NotSupportedError(this.backend.name, 'repair');
    return this.backend.repair(key);
  }

  /**
   * Runs `fn` in a serializable transaction and commits it; on conflict re-runs it (up to
   * `maxRetries`, then `ConflictError`). An error thrown by `fn` rolls back and is re-thrown.
   * @throws InvalidValueError
   * @throws ConflictError (after maxRetries)
   * @throws whatever fn throws (after rollback)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async transaction<R>(fn: (tx: Transaction) => Promise<R> | R, options?: RetryOptions): Promise<R> {
    this.guard('run a transaction');
    if (typeof fn !== 'function') throw new InvalidValueError('fn', fn, 'expected a function');
    assertOptions(options, 'options', ['maxRetries']);
    assertPositive(options?.maxRetries, 'options.maxRetries', { integer: true, allowZero: true });
    return retryOnConflict(async () => {
      const tx = this.#newTransaction();
      let result: R;
      try {
        result = await fn(tx);
      } catch (error) {
        await tx.rollback();
        throw error;
      }
      await tx.commit();
      return result;
    }, options?.maxRetries ?? DEFAULT_TX_RETRIES);
  }

  /** Starts a transaction to drive by hand: `commit()` (may throw `ConflictError`) or `rollback()`. */
  async begin(): Promise<Transaction> {
    this.guard('begin a transaction');
    return this.#newTransaction();
  }

  /** A priority queue with leases (`enqueue`, `dequeue`, `ack`, `nack`, `extend`, `counts`, dead letters). */
  queue(name: string, options?: QueueOptions): Queue {
    this.guard('open a queue');
    return new Queue(this, name, options);
  }

  /**
   * Publishes `message` on `channel`; every current subscriber receives it, in publish order.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async publish(channel: string, message: JsonValue, options?: PublishOptions): Promise<{ sequence: number }> {
    return publish(this, channel, message, options);
  }

  /**
   * Calls `handler` for every message published on `channel` after this resolves (or, with
   * `after`, every retained one with a greater sequence first), one at a time, in order.
   * Returns a {@link Subscription}: `close()`, `closed`, `await using`, and callable as the old
   * unsubscribe function. `close()` of the client stops every subscription too.
   * @throws InvalidKeyError
   * @throws InvalidValueError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async subscribe<T extends JsonValue = JsonValue>(
    channel: string,
    handler: (message: T, meta: ChannelMessage<T>) => void | Promise<void>,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    this.guard('subscribe');
    checkSubscribe(channel, handler, options);
    const follower: ChannelFollower = new ChannelFollower(
      this,
      channel,
      (m) => handler(m.message as T, m as ChannelMessage<T>),
      options ?? {},
      () => this.#subscriptions.delete(follower),
    );
    await follower.start();
    this.#subscriptions.add(follower);
    return subscriptionOf(follower);
  }

  /** The append-only log `name`: `append`, `read`, `follow`, `trim`, `lastSeq`. */
  log<T extends JsonValue = JsonValue>(name: string): Log<T> {
    this.guard('open a log');
    return new Log<T>(this, name);
  }

  /** The agent registry: `register`, `heartbeat`, `list`. */
  get agents(): Agents {
    return (this.#agents ??= new Agents(this));
  }

  /** The mailbox of `agentId`: `send`, `receive`, `ack`. */
  mailbox(agentId: string): Mailbox {
    this.guard('open a mailbox');
    return new Mailbox(this, agentId);
  }

  /** Checks the backend answers. */
  async health(): Promise<HealthReport> {
    this.guard('check health');
    return this.backend.health();
  }

  /** Releases every connection, timer and handle. Idempotent; later calls → `StateClosedError`. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort(new StateClosedError('go on waiting'));
      const subscriptions = [...this.#subscriptions];
      this.#subscriptions.clear();
      await Promise.all(subscriptions.map((s) => s.stop()));
      await closeFamilies(this);
      await this.backend.close();
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Aborted by `close()`, so blocking waits end at once with `StateClosedError`. */
  get closeSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Throws `StateClosedError` after `close()`. For extensions built on the client. */
  guard(operation: string): void {
    if (this.#closed) throw new StateClosedError(operation);
  }

  #newTransaction(): Transaction {
    return new Transaction(this.backend, this.config.maxValueBytes, (op) => this.guard(op));
  }

  #leaseRef(lease: unknown, field: string): LeaseRef {
    const l = lease as Partial<LeaseRef> | null;
    if (!l || typeof l !== 'object') throw new InvalidValueError(field, lease, 'expected { resource, token, owner }');
    assertKey(l.resource, `${field}.resource`);
    if (typeof l.token !== 'number' || !Number.isInteger(l.token) || l.token <= 0) {
      throw new InvalidValueError(`${field}.token`, l.token, 'expected a positive whole number');
    }
    if (typeof l.owner !== 'string' || l.owner.length === 0) throw new InvalidValueError(`${field}.owner`, l.owner, 'expected an owner id');
    return { resource: l.resource, token: l.token, owner: l.owner };
  }

  /** A new owner id; a remote one starts with `remote:` so that it names no local process. */
  #owner(remote: boolean): string {
    const id = lockOwnerId(this.clientId, ++this.#lockCount);
    return remote ? `${REMOTE_OWNER_PREFIX}${id}` : id;
  }

  /**
   * How lock waits hear releases, when the backend announces them (declared
   * `coordination.lockWake`); undefined otherwise. Made once per client; it listens (and builds
   * the coordination families) only when a wait found a lock taken.
   */
  #lockWake(): LockWake | undefined {
    if (this.#lockWakes === undefined) {
      const announced = this.backend.capabilities.coordination?.lockWake === true && this.backend.notify !== undefined;
      this.#lockWakes = announced
        ? {
            listen: (resource, onWake) => {
              const source = families(this).lockWake;
              return source ? source.listen({ kind: 'lock', name: resource }, onWake) : Promise.resolve(async () => undefined);
            },
            closeSignal: this.closeSignal,
          }
        : null;
    }
    return this.#lockWakes ?? undefined;
  }

  /** A takeover (rare: the backend saw another owner's expired lease): audited, then the plain lease. */
  async #tookOver(taken: AcquiredLease, replaced: LockLease): Promise<LockLease> {
    const lease: LockLease = { resource: taken.resource, owner: taken.owner, token: taken.token, expiresAt: taken.expiresAt };
    await auditTakeover(this, lease, replaced);
    return lease;
  }

    #fence(fence: Lock | LockLease | undefined): LockLease | undefined {
    if (fence === undefined) return undefined;
    if (fence instanceof Lock) {
      if (fence.released) throw new LockLostError(fence.resource, fence.token, 'it was released');
      return fence.lease;
    }
    const lease = fence as Partial<LockLease> | null;
    if (
      !lease ||
      typeof lease.resource !== 'string' ||
      typeof lease.owner !== 'string' ||
      typeof lease.token !== 'number' ||
      typeof lease.expiresAt !== 'number'
    ) {
      throw new InvalidValueError('options.fence', fence, 'expected a lock returned by lock()');
    }
    return { resource: lease.resource, owner: lease.owner, token: lease.token, expiresAt: lease.expiresAt };
  }
}
