import { MigratingError, TimeoutError } from './errors.js';
import type { CommunicationBackend, JsonValue } from './types.js';

/**
 * The migration fence (issue 14 item 5). `agent-state-migrate` marks its source while it copies
 * (`@migration/active`, with a TTL it refreshes) and, after `--switch`, for good
 * (`@migration/switched`). Every client reads both markers when it opens and keeps them fresh
 * (a read every second; not the backend's `watch`, which on SQLite fires on every commit of
 * any process, so fifty busy clients would each re-read the markers after every write), and refuses
 * writes while either is set with `MigratingError`, naming the migration and where the data is
 * going. Reads keep working. With `onMigration: 'wait'` a write waits for a running migration to
 * end instead (and still fails once the store was switched away from).
 *
 * The check on the write path is a look at a cached field: no I/O per call while the view is
 * fresh (a write finding it older than {@link FENCE_REFRESH_MS} reads the markers first). The
 * migration tool waits that long plus the source's connect timeout (the bound of a write
 * already past the check, e.g. waiting on a busy lock) after setting its marker before it reads
 * the first key: a write that starts after that is refused, and one that started before has
 * landed.
 */
export const ACTIVE_MARKER_KEY = '@migration/active';
/** Set on a source after `--switch`: `{ to, switchedAt, runId }`, no TTL. */
export const SWITCHED_MARKER_KEY = '@migration/switched';
/** How stale a client's view of the markers may be. */
export const FENCE_REFRESH_MS = 1_000;

/** What a client does with a write while a migration copies its store. */
export type OnMigration = 'fail' | 'wait';

interface Marker {
  to: string;
  id: string;
}

function markerOf(value: JsonValue | undefined): Marker | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const to = typeof value['to'] === 'string' ? value['to'] : 'another store';
  const id = value['runId'] ?? value['lockToken'] ?? value['startedAt'] ?? 'unknown';
  return { to, id: String(id) };
}

/** The fence state of one client; see the module comment. */
export class MigrationFence {
  #active: Marker | undefined;
  #switched: Marker | undefined;
  /** Neither marker is set (as of the last read): the write path's one-boolean check. */
  #open = false;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #waiters = new Set<() => void>();
  /** When the last successful read of the markers started (performance.now()). */
  #freshAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly backend: CommunicationBackend,
    private readonly onMigration: OnMigration,
    /** Bound of a wait for a migration to end (`onMigration: 'wait'`). */
    private readonly waitMs: number,
  ) {}

  /** Reads the markers once and starts keeping them fresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), FENCE_REFRESH_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const wake of this.#waiters) wake();
  }

  /** Re-reads both markers (coalesced: one read in flight at a time). */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const startedAt = performance.now();
        const [active, switched] = await this.backend.readMany([ACTIVE_MARKER_KEY, SWITCHED_MARKER_KEY]);
        this.#freshAt = startedAt;
        this.#active = markerOf(active?.value);
        this.#switched = markerOf(switched?.value);
        this.#open = !this.#active && !this.#switched;
        if (!this.#active) for (const wake of this.#waiters) wake();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /**
   * Throws (or, for `wait`, returns a promise to await) when writes are fenced now. When the
   * cached view is older than {@link FENCE_REFRESH_MS} (a refresh was slow or failed), the
   * markers are read again first, so a write never relies on a stale "no migration".
   */
  check(): Promise<void> | undefined {
    const stale = performance.now() - this.#freshAt > FENCE_REFRESH_MS;
    // The common case, one boolean: no marker in a fresh view.
    if (this.#open && !stale) return undefined;
    if (stale) return this.refresh().then(() => this.#decide());
    return this.#decide();
  }

  #decide(): Promise<void> | undefined {
    if (this.#switched) throw this.#switchedError(this.#switched);
    if (!this.#active) return undefined;
    if (this.onMigration === 'fail') throw new MigratingError(this.#active.id, this.#active.to);
    return this.#waitForEnd();
  }

  #switchedError(marker: Marker): MigratingError {
    return new MigratingError(marker.id, marker.to, 'this store was switched away from');
  }

  async #waitForEnd(): Promise<void> {
    const deadline = performance.now() + this.waitMs;
    while (this.#active) {
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(`waiting for migration ${this.#active.id} to ${this.#active.to}`, this.waitMs);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, FENCE_REFRESH_MS));
        this.#waiters.add(done);
      });
      await this.refresh();
    }
    if (this.#switched) throw this.#switchedError(this.#switched);
  }
}

type Fn = (...args: never[]) => unknown;

/** Calls that change data, per surface. Locks are not data (they are never migrated) and stay open. */
const FENCED: Record<'backend' | 'queues' | 'logs', ReadonlySet<PropertyKey>> = {
  backend: new Set(['write', 'delete', 'commit', 'increment', 'repair']),
  queues: new Set(['enqueue', 'claim', 'settle', 'reviveDead']),
  logs: new Set(['append', 'trim', 'remove']),
};

/**
 * The backend as the client sees it: every call that changes data passes the fence first;
 * everything else is the backend itself. Not a Proxy (a trap and a cache look-up on every
 * property read of every call): an object whose prototype is the backend (so `instanceof`,
 * fields and later-assigned fields read through), with own methods bound once to it (so private
 * fields keep working), own getters that run on it, and `queues` / `logs` fenced the same way
 * (wrapped again if the backend replaces them).
 */
export function fencedBackend(backend: CommunicationBackend, fence: MigrationFence): CommunicationBackend {
  const view = fencedView(backend, FENCED.backend, fence, {
    queues: (q) => fencedView(q, FENCED.queues, fence),
    logs: (l) => fencedView(l, FENCED.logs, fence),
  });
  Object.defineProperty(view, 'close', {
    value: async () => {
      fence.stop();
      await backend.close();
    },
    writable: true,
    configurable: true,
  });
  return view;
}

function fencedView<T extends object>(target: T, fenced: ReadonlySet<PropertyKey>, fence: MigrationFence, child?: Record<string, (value: object) => object>): T {
  const view = Object.create(target) as T;
  const seen = new Set<PropertyKey>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const prop of Reflect.ownKeys(o)) {
      if (prop === 'constructor' || seen.has(prop)) continue;
      seen.add(prop);
      const d = Object.getOwnPropertyDescriptor(o, prop)!;
      const wrap = typeof prop === 'string' ? child?.[prop] : undefined;
      if (wrap) {
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
        const to = fenced.has(prop)
          ? (...args: never[]) => {
              const wait = fence.check();
              return wait ? wait.then(() => fn.apply(target, args)) : fn.apply(target, args);
            }
          : fn.bind(target);
        Object.defineProperty(view, prop, { value: to, writable: true, configurable: true });
      }
      // Other data fields are read through the prototype (their current value).
    }
  }
  return view;
}
