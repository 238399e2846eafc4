import type { StateClient } from '../client.js';
import type { CommunicationBackend, LockLease } from '../types.js';

/**
 * Metrics of one client, measured at the backend boundary (issue 17 item 1): calls, errors by
 * code and a latency histogram per operation; lock acquisitions, contended attempts, releases and
 * losses per resource prefix; queue and log traffic per name; the leases this process holds.
 *
 * Cheap enough to leave on: the histogram is a fixed array of bucket counts (no samples kept, no
 * allocation per call); the per-operation record is looked up once, when the wrapped method is
 * first read, not per call; every call and error is counted, but after the first
 * {@link TIMED_FIRST_CALLS} calls of an operation only one in {@link TIME_ONE_CALL_IN} is timed.
 */

/** Upper bounds (ms) of the latency buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** The first calls of each operation are all timed, so a short run still shows its latencies. */
export const TIMED_FIRST_CALLS = 64;
/**
 * After those, one call in this many is timed and counts for the calls in between (a weight of
 * this many in the histogram and the sum): every call is still counted, every error too, but
 * the clock reads and the promise callbacks of timing are paid by one call in this many.
 */
export const TIME_ONE_CALL_IN = 16;

/** Calls, errors and latency of one operation. */
export class OpStats {
  /** Every call, counted when it starts. */
  calls = 0;
  errors = 0;
  /** Errors by code (`CONFLICT`, `LOCK_LOST`, … or `ERROR` for an error without a code). */
  readonly errorsByCode = new Map<string, number>();
  /** Sum of the latencies, in ms (sampled: each timed call weighs the calls it stands for). */
  sumMs = 0;
  /**
   * Calls per bucket (not cumulative), sampled like `sumMs`: they add up to `calls` within
   * {@link TIME_ONE_CALL_IN}. Index `LATENCY_BUCKETS_MS.length` is +Inf.
   */
  readonly buckets = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  #warm = TIMED_FIRST_CALLS;
  /** Calls left until the next timed one, which stands for itself and the untimed ones before it. */
  #untilTimed = TIME_ONE_CALL_IN;
  /** The weight of the calls timed so far (what the buckets add up to). */
  #timedWeight = 0;

  constructor(readonly op: string) {}

  /**
   * Counts a call that starts now; returns its weight when it is to be timed (see
   * {@link TIME_ONE_CALL_IN}), 0 when not.
   */
  start(): number {
    this.calls++;
    if (this.#warm > 0) {
      this.#warm--;
      return 1;
    }
    if (--this.#untilTimed > 0) return 0;
    this.#untilTimed = TIME_ONE_CALL_IN;
    return TIME_ONE_CALL_IN;
  }

  /** Records the latency of a timed call standing for `weight` calls. */
  observe(ms: number, weight = 1): void {
    this.sumMs += ms * weight;
    this.#timedWeight += weight;
    let i = 0;
    const n = LATENCY_BUCKETS_MS.length;
    while (i < n && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.buckets[i]! += weight;
  }

  /** Counts a failed call by its error's code. */
  fail(error: unknown): void {
    this.errors++;
    const code = (error as { code?: unknown } | null)?.code;
    const key = typeof code === 'string' ? code : 'ERROR';
    this.errorsByCode.set(key, (this.errorsByCode.get(key) ?? 0) + 1);
  }

  /** A failure callback bound once (no closure per call): counts the error and rethrows it. */
  readonly failAndRethrow = (error: unknown): never => {
    this.fail(error);
    throw error;
  };

  /** The latency at quantile `q` (0..1), as the upper bound of the bucket it falls in. */
  quantile(q: number): number | null {
    if (this.#timedWeight === 0) return null;
    const rank = q * this.#timedWeight;
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! : Infinity;
    }
    return Infinity;
  }
}

/** Lock traffic of one resource prefix (the first key segment). */
export interface LockCounters {
  /** Leases taken. */
  acquired: number;
  /** Attempts that found another live holder (one per `tryLock` returning null: a wait or a timeout). */
  contended: number;
  released: number;
  /** Releases or extends that failed with `LOCK_LOST` (expired or taken over). */
  lost: number;
  extended: number;
}

/** Queue traffic of one queue. */
export interface QueueCounters {
  enqueued: number;
  claimed: number;
  /** Claims that found nothing. */
  empty: number;
  acked: number;
  nacked: number;
  extended: number;
  /** Settles refused (the lease was no longer the job's). */
  stale: number;
  retriedDead: number;
  deletedDead: number;
}

/** Traffic of the logs: records appended and read per log family. */
export interface LogCounters {
  appended: number;
  read: number;
  /** Records dropped one by one (a mailbox's acks: messages delivered). */
  removed: number;
}

/** A lease this process holds (taken through this client), as the dashboard lists it. */
export interface HeldLock extends LockLease {
  since: number;
}

/** A plain-JSON view of {@link StateMetrics}. */
export interface MetricsSnapshot {
  backend: string;
  at: number;
  startedAt: number;
  ops: { op: string; calls: number; errors: number; errorsByCode: Record<string, number>; sumMs: number; p50Ms: number | null; p99Ms: number | null; buckets: number[] }[];
  locks: Record<string, LockCounters>;
  queues: Record<string, QueueCounters>;
  /** Per log family: `ch` (channels), `mail` (mailboxes: appended = messages sent, removed = acked, i.e. delivered), `log` (user logs). */
  logs: Record<string, LogCounters>;
  held: HeldLock[];
}

const zeroLock = (): LockCounters => ({ acquired: 0, contended: 0, released: 0, lost: 0, extended: 0 });
const zeroQueue = (): QueueCounters => ({ enqueued: 0, claimed: 0, empty: 0, acked: 0, nacked: 0, extended: 0, stale: 0, retriedDead: 0, deletedDead: 0 });

/** The prefix of a resource or key that metrics are grouped by: its first segment. */
export function prefixOf(name: string): string {
  const i = name.indexOf('/');
  return i < 0 ? name : name.slice(0, i);
}

/** Every metric of one client. */
export class StateMetrics {
  readonly startedAt = Date.now();
  readonly ops = new Map<string, OpStats>();
  readonly locks = new Map<string, LockCounters>();
  readonly queues = new Map<string, QueueCounters>();
  readonly logs = new Map<string, LogCounters>();
  /** Leases held through this client, by resource. */
  readonly held = new Map<string, HeldLock>();

  constructor(readonly backend: string) {}

  op(name: string): OpStats {
    let s = this.ops.get(name);
    if (!s) this.ops.set(name, (s = new OpStats(name)));
    return s;
  }

  lock(resource: string): LockCounters {
    const p = prefixOf(resource);
    let c = this.locks.get(p);
    if (!c) this.locks.set(p, (c = zeroLock()));
    return c;
  }

  queue(name: string): QueueCounters {
    let c = this.queues.get(name);
    if (!c) this.queues.set(name, (c = zeroQueue()));
    return c;
  }

  log(name: string): LogCounters {
    const p = prefixOf(name);
    let c = this.logs.get(p);
    if (!c) this.logs.set(p, (c = { appended: 0, read: 0, removed: 0 }));
    return c;
  }

  snapshot(): MetricsSnapshot {
    const now = Date.now();
    for (const [r, l] of this.held) if (l.expiresAt <= now) this.held.delete(r);
    return {
      backend: this.backend,
      at: now,
      startedAt: this.startedAt,
      ops: [...this.ops.values()].map((s) => ({
        op: s.op,
        calls: s.calls,
        errors: s.errors,
        errorsByCode: Object.fromEntries(s.errorsByCode),
        sumMs: s.sumMs,
        p50Ms: s.quantile(0.5),
        p99Ms: s.quantile(0.99),
        buckets: [...s.buckets],
      })),
      locks: Object.fromEntries([...this.locks].map(([k, v]) => [k, { ...v }])),
      queues: Object.fromEntries([...this.queues].map(([k, v]) => [k, { ...v }])),
      logs: Object.fromEntries([...this.logs].map(([k, v]) => [k, { ...v }])),
      held: [...this.held.values()].map((l) => ({ ...l })),
    };
  }
}

const registry = new WeakMap<object, StateMetrics>();

/** @internal Ties metrics to the client that `openState()` built over the metered backend. */
export function attachMetrics(state: StateClient, metrics: StateMetrics): void {
  registry.set(state, metrics);
}

/**
 * The metrics of a client opened by `openState()` (metrics are on unless `metrics: false`), or
 * `undefined`. Stands in for `state.metrics()` until the client exposes it.
 */
export function metricsOf(state: StateClient): StateMetrics | undefined {
  return registry.get(state) ?? registry.get(state.backend);
}

type Fn = (...args: never[]) => unknown;

/** After a call succeeded: the family-specific counters (locks, queues, logs). */
type After = (m: StateMetrics, args: readonly unknown[], result: unknown) => void;
/** After a call failed. */
type AfterError = (m: StateMetrics, args: readonly unknown[], error: unknown) => void;

const lostOf = (error: unknown) => (error as { code?: string } | null)?.code === 'LOCK_LOST';

const BACKEND_OPS: Record<string, [After?, AfterError?]> = {
  read: [],
  readMany: [],
  write: [],
  delete: [],
  list: [],
  commit: [],
  increment: [],
  repair: [],
  health: [],
  tryLock: [
    (m, [resource], lease) => {
      const c = m.lock(resource as string);
      if (lease) {
        c.acquired++;
        const l = lease as LockLease;
        m.held.set(l.resource, { ...l, since: Date.now() });
      } else c.contended++;
    },
  ],
  extendLock: [
    (m, [lease], result) => {
      m.lock((lease as LockLease).resource).extended++;
      const l = result as LockLease;
      const h = m.held.get(l.resource);
      if (h && h.owner === l.owner) h.expiresAt = l.expiresAt;
    },
    (m, [lease], e) => {
      if (!lostOf(e)) return;
      m.lock((lease as LockLease).resource).lost++;
      dropHeld(m, lease as LockLease);
    },
  ],
  releaseLock: [
    (m, [lease]) => {
      m.lock((lease as LockLease).resource).released++;
      dropHeld(m, lease as LockLease);
    },
    (m, [lease], e) => {
      if (!lostOf(e)) return;
      m.lock((lease as LockLease).resource).lost++;
      dropHeld(m, lease as LockLease);
    },
  ],
};

function dropHeld(m: StateMetrics, lease: LockLease): void {
  const h = m.held.get(lease.resource);
  if (h && h.owner === lease.owner && h.token === lease.token) m.held.delete(lease.resource);
}

const QUEUE_OPS: Record<string, [After?, AfterError?]> = {
  enqueue: [(m, [q]) => void m.queue(q as string).enqueued++],
  claim: [
    (m, [q], job) => {
      const c = m.queue(q as string);
      if (job) c.claimed++;
      else c.empty++;
    },
  ],
  settle: [
    (m, [q, , , action], ok) => {
      const c = m.queue(q as string);
      if (!ok) c.stale++;
      else if ((action as { kind: string }).kind === 'ack') c.acked++;
      else if ((action as { kind: string }).kind === 'nack') c.nacked++;
      else c.extended++;
    },
  ],
  counts: [],
  jobs: [],
  reviveDead: [
    (m, [q, , action], ok) => {
      if (!ok) return;
      if (action === 'retry') m.queue(q as string).retriedDead++;
      else m.queue(q as string).deletedDead++;
    },
  ],
  names: [],
};

const LOG_OPS: Record<string, [After?, AfterError?]> = {
  append: [(m, [log, records]) => void (m.log(log as string).appended += (records as unknown[]).length)],
  read: [(m, [log], records) => void (m.log(log as string).read += (records as unknown[]).length)],
  lastSeq: [],
  trim: [],
  remove: [(m, [log], n) => void (m.log(log as string).removed += n as number)],
  names: [],
};

function meter(fn: Fn, self: object, stats: OpStats, m: StateMetrics, hooks: [After?, AfterError?]): Fn {
  const [after, afterError] = hooks;
  const plain = !after && !afterError;
  // No async wrapper (its extra awaits cost more than the measuring): the backend's own promise,
  // with one then() that records; a synchronous throw is recorded and rethrown as it was. A call
  // that is not timed (see TIME_ONE_CALL_IN) and has no family counters reads no clock and
  // allocates no callback: its then() takes the stats' bound failure counter.
  return ((...args: never[]) => {
    const weight = stats.start();
    const started = weight === 0 ? 0 : performance.now();
    let result: unknown;
    try {
      result = fn.apply(self, args);
    } catch (error) {
      if (weight !== 0) stats.observe(performance.now() - started, weight);
      stats.fail(error);
      if (afterError) afterError(m, args, error);
      throw error;
    }
    if (!(result instanceof Promise)) {
      if (weight !== 0) stats.observe(performance.now() - started, weight);
      if (after) after(m, args, result);
      return result;
    }
    if (weight === 0 && plain) return result.then(undefined, stats.failAndRethrow);
    return result.then(
      (value) => {
        if (weight !== 0) stats.observe(performance.now() - started, weight);
        if (after) after(m, args, value);
        return value;
      },
      (error: unknown) => {
        if (weight !== 0) stats.observe(performance.now() - started, weight);
        stats.fail(error);
        if (afterError) afterError(m, args, error);
        throw error;
      },
    );
  }) as Fn;
}

/**
 * A view of `target` whose listed methods are measured: an object whose prototype is `target`
 * (so `instanceof`, fields and later-assigned fields read through), with own bound methods and
 * own getters that run on `target` (so private fields keep working). Not a Proxy: a property
 * read on the hot path is a plain own-property load, not a trap.
 */
function meteredObject<T extends object>(target: T, family: string, ops: Record<string, [After?, AfterError?]>, m: StateMetrics, child?: Record<string, (value: object) => object>): T {
  const view = Object.create(target) as T;
  const seen = new Set<PropertyKey>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const prop of Reflect.ownKeys(o)) {
      if (prop === 'constructor' || seen.has(prop)) continue;
      seen.add(prop);
      const d = Object.getOwnPropertyDescriptor(o, prop)!;
      const wrap = typeof prop === 'string' ? child?.[prop] : undefined;
      if (wrap) {
        // queues / logs: measured too, re-wrapped if the backend replaces them.
        let from: unknown;
        let to: unknown;
        Object.defineProperty(view, prop, {
          get: () => {
            const value = Reflect.get(target, prop, target) as unknown;
            if (value !== from) {
              from = value;
              to = value && typeof value === 'object' ? wrap(value) : value;
            }
            return to;
          },
          configurable: true,
        });
      } else if (d.get) {
        Object.defineProperty(view, prop, { get: () => Reflect.get(target, prop, target) as unknown, configurable: true });
      } else if (typeof d.value === 'function') {
        const fn = d.value as Fn;
        const hooks = typeof prop === 'string' ? ops[prop] : undefined;
        const to = hooks ? meter(fn, target, m.op(family ? `${family}.${prop as string}` : (prop as string)), m, hooks) : fn.bind(target);
        Object.defineProperty(view, prop, { value: to, writable: true, configurable: true });
      }
      // Other data fields are read through the prototype (their current value).
    }
  }
  return view;
}

/**
 * The backend with every data, lock, queue and log call measured into `metrics` (fields,
 * getters and `instanceof` are the backend's own). It goes under the migration fence, so the
 * fence's own refusals are not counted as backend calls.
 */
export function meteredBackend(backend: CommunicationBackend, metrics: StateMetrics): CommunicationBackend {
  const view = meteredObject(backend, '', BACKEND_OPS, metrics, {
    queues: (q) => meteredObject(q, 'queues', QUEUE_OPS, metrics),
    logs: (l) => meteredObject(l, 'logs', LOG_OPS, metrics),
  });
  registry.set(view, metrics);
  return view;
}
