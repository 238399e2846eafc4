import type { StateClient } from '../client.js';
import type { NativeLogs, NativeNotify, NativeQueues, WakeTopic } from '../types.js';
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
}

/** The coordination families one client uses: native where the backend has them, else portable. */
export interface Families {
  queues: NativeQueues;
  logs: NativeLogs;
  queueWake: WakeSource;
  logWake: WakeSource;
  /** Which families are native (for reports and tests). */
  native: { queues: boolean; logs: boolean; notify: boolean };
}

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
  const portableSource: WakeSource = {
    listen: (topic, onWake) => portableNotify.listen(topic, onWake),
    // Without watch or polling (a single-process backend), in-process wakeups are complete.
    maxRecheckMs: PUSH_RECHECK_MS,
  };
  const nativeSource = (notify: NativeNotify | undefined): WakeSource =>
    notify
      ? { listen: (topic, onWake) => notify.listen(topic, onWake), maxRecheckMs: PUSH_RECHECK_MS }
      : { listen: async () => async () => undefined, maxRecheckMs: POLL_RECHECK_MS };
  f = {
    queues: nativeQueues ?? new PortableQueues(state, portableNotify),
    logs: nativeLogs ?? new PortableLogs(state, portableNotify),
    queueWake: nativeQueues ? nativeSource(nativeNotify) : portableSource,
    logWake: nativeLogs ? nativeSource(nativeNotify) : portableSource,
    native: { queues: nativeQueues !== undefined, logs: nativeLogs !== undefined, notify: nativeNotify !== undefined },
  };
  cache.set(state, f);
  return f;
}
