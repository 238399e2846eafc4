import type { StateClient } from '../client.js';
import type { NativeLogs, NativeQueues, WakeTopic } from '../types.js';
import type { BlockingWait } from './wait.js';
import { PortableLogs } from './portable/portable-logs.js';
import { PortableNotify } from './portable/portable-notify.js';
import { PortableQueues } from './portable/portable-queues.js';

/** How a waiter hears about a change of one family's topics. */
export interface WakeSource {
  listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>>;
  /**
   * Longest pause between two re-checks while waiting. Wakeups cover new jobs and appends, but
   * not a delayed job coming due or a lease running out, so waits re-check on a timer too: long
   * when the wake source is push, short (≤ 100 ms) when nothing pushes.
   */
  maxRecheckMs: number;
  /**
   * When this source is already listening to `topic` (a consumer loop's previous wait keeps it),
   * a probe that says whether `topic` woke since this call; undefined otherwise. A waiter takes
   * the mark before its first look, so if the probe still says "no" once it listens, nothing
   * changed after that look began and it need not look again before it sleeps.
   */
  mark?(topic: WakeTopic): (() => boolean) | undefined;
}

/** The coordination families one client uses: native where the backend has them, else portable. */
export interface Families {
  queues: NativeQueues;
  logs: NativeLogs;
  queueWake: WakeSource;
  logWake: WakeSource;
  /**
   * Releases of a lock's resource, topic `{ kind: 'lock', name }`: the backend's notify when it
   * declares `lockWake`, else none (lock waiters poll `tryLock`).
   */
  lockWake: WakeSource | undefined;
  /** Which families are native (for reports and tests). */
  native: { queues: boolean; logs: boolean; notify: boolean };
  /** Stops the shared wakeup listeners; called by the client's `close()`. */
  close(): Promise<void>;
}

/** Stops the wakeup listeners `state` kept (if it ever used coordination). */
export async function closeFamilies(state: StateClient): Promise<void> {
  await cache.get(state)?.close();
}

/**
 * Shares one underlying listener per topic among every waiter of a client, and keeps it a
 * moment after the last waiter leaves, so a consumer loop (`dequeue({ waitMs })` again and
 * again) or a subscription does not subscribe and unsubscribe on the backend for every wait.
 */
class WakeMux implements WakeSource {
  readonly #topics = new Map<string, MuxTopic>();
  #closed = false;

  constructor(
    private readonly source: (topic: WakeTopic, onWake: () => void) => Promise<() => Promise<void>>,
    readonly maxRecheckMs: number,
  ) {}

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    const id = `${topic.kind}\u0000${topic.name}`;
    let t = this.#topics.get(id);
    if (!t) {
      const fresh: MuxTopic = { listeners: new Set(), ready: undefined as never, linger: undefined, live: false, wakes: 0 };
      fresh.ready = this.source(topic, () => {
        fresh.wakes++;
        for (const listener of [...fresh.listeners]) listener();
      });
      fresh.ready.then(
        () => void (fresh.live = true),
        () => {
          if (this.#topics.get(id) === fresh) this.#topics.delete(id);
        },
      );
      this.#topics.set(id, (t = fresh));
    }
    const entry = t;
    clearTimeout(entry.linger);
    entry.linger = undefined;
    entry.listeners.add(onWake);
    try {
      await entry.ready;
    } catch (error) {
      entry.listeners.delete(onWake);
      throw error;
    }
    return async () => {
      entry.listeners.delete(onWake);
      if (entry.listeners.size > 0 || this.#closed) return;
      entry.linger = setTimeout(() => void this.#drop(id, entry), LINGER_MS);
      entry.linger.unref();
    };
  }

  mark(topic: WakeTopic): (() => boolean) | undefined {
    const t = this.#topics.get(`${topic.kind}\u0000${topic.name}`);
    if (!t?.live) return undefined;
    const at = t.wakes;
    // The topic may be dropped (linger ran out) and subscribed afresh meanwhile: then say "woke".
    return () => t.wakes !== at || this.#topics.get(`${topic.kind}\u0000${topic.name}`) !== t;
  }

  /** Stops every underlying listener (the client is closing). */
  async close(): Promise<void> {
    this.#closed = true;
    const topics = [...this.#topics.entries()];
    this.#topics.clear();
    await Promise.all(
      topics.map(async ([, t]) => {
        clearTimeout(t.linger);
        const stop = await t.ready.catch(() => undefined);
        await stop?.();
      }),
    );
  }

  async #drop(id: string, t: MuxTopic): Promise<void> {
    if (t.listeners.size > 0 || this.#topics.get(id) !== t) return;
    this.#topics.delete(id);
    try {
      await (await t.ready)();
    } catch {
      // Stopping an idle wakeup listener from a timer: there is no caller to hand this to, and a
      // listener that failed to stop can only cause spurious wakeups, which are harmless.
    }
  }
}

interface MuxTopic {
  listeners: Set<() => void>;
  ready: Promise<() => Promise<void>>;
  linger: NodeJS.Timeout | undefined;
  /** The underlying listener is subscribed: no wakeup of the topic can be missed from here on. */
  live: boolean;
  /** Wakeups heard so far (for {@link WakeSource.mark}). */
  wakes: number;
}

/** What {@link blockingWait} takes from a wake source for one topic. */
export function wakeOf(source: WakeSource, topic: WakeTopic): Pick<BlockingWait<unknown>, 'listen' | 'mark' | 'maxRecheckMs'> {
  return {
    listen: (onWake) => source.listen(topic, onWake),
    mark: () => source.mark?.(topic),
    maxRecheckMs: source.maxRecheckMs,
  };
}

/** How long an idle topic listener is kept for the next wait. */
const LINGER_MS = 2_000;

const PUSH_RECHECK_MS = 1_000;
const POLL_RECHECK_MS = 100;

const portableOnly = new WeakSet<StateClient>();
const cache = new WeakMap<StateClient, Families>();

/**
 * Makes `state` ignore its backend's native queues, logs and notify and use the portable
 * implementations on the key contract instead. Call before any coordination call on it. For
 * the contract suite's portable runs (so a native backend checks the portable path too) and
 * for stores shared with clients that must stay on the first-wave layout.
 */
export function usePortableCoordination(state: StateClient): void {
  if (cache.has(state)) throw new Error('usePortableCoordination must be called before the first coordination call');
  portableOnly.add(state);
}

/**
 * The families of `state`. A native family is used when the backend has it and declares it in
 * `capabilities.coordination` (the same rule as the migration tool's, so both agree on which
 * layout a store uses). The portable families share one
 * {@link PortableNotify}; native families use the backend's `notify` when it has one, else an
 * in-process-only source with short re-checks.
 */
export function families(state: StateClient): Families {
  let f = cache.get(state);
  if (f) return f;
  const backend = state.backend;
  const declared = backend.capabilities.coordination ?? {};
  const portable = portableOnly.has(state);
  const nativeQueues = !portable && declared.queues === true ? backend.queues : undefined;
  const nativeLogs = !portable && declared.logs === true ? backend.logs : undefined;
  const nativeNotify = !portable && declared.notify === true ? backend.notify : undefined;
  const portableNotify = new PortableNotify(state);
  // Without watch or polling (a single-process backend), in-process wakeups are complete.
  const portableSource = new WakeMux((topic, onWake) => portableNotify.listen(topic, onWake), PUSH_RECHECK_MS);
  const nativeMux = nativeNotify ? new WakeMux((topic, onWake) => nativeNotify.listen(topic, onWake), PUSH_RECHECK_MS) : undefined;
  const nativeSource = (): WakeSource => nativeMux ?? { listen: async () => async () => undefined, maxRecheckMs: POLL_RECHECK_MS };
  const muxes = [portableSource, ...(nativeMux ? [nativeMux] : [])];
  f = {
    queues: nativeQueues ?? new PortableQueues(state, portableNotify),
    logs: nativeLogs ?? new PortableLogs(state, portableNotify),
    queueWake: nativeQueues ? nativeSource() : portableSource,
    logWake: nativeLogs ? nativeSource() : portableSource,
    lockWake: !portable && declared.lockWake === true ? nativeMux : undefined,
    native: { queues: nativeQueues !== undefined, logs: nativeLogs !== undefined, notify: nativeNotify !== undefined },
    close: async () => {
      await Promise.all(muxes.map((m) => m.close()));
    },
  };
  cache.set(state, f);
  return f;
}
