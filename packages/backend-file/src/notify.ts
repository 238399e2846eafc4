/**
 * Cross-process wakeups for native queues, logs and lock releases: an inotify watch (watch.ts,
 * one per directory, shared) of the file every change of the topic touches: a queue's `seq`
 * record (its times bumped once a job can be claimed: after an enqueue's move into ready/ or
 * delayed/, a nack, a retry; the counter's own rewrite before the move is an early, harmless
 * wake), a log's `meta` record (rewritten by each append, after its record file), and a lock's
 * lease file and mutex (a release's unlink of the mutex; see `listenLock` below). What no file
 * change announces, a delayed job or an expired lease coming due, wakes a queue's listeners from
 * a timer set to the end of the queue's first time bucket (re-armed as it fires and after
 * wakes); a lock lease that runs out wakes nobody (core re-checks lock waits every ≤ 25 ms). The
 * safety net for anything else (a watch that could not be set up) is core's re-check of every
 * wait once a second (coordination/families.ts).
 */
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import type { Store } from './context.js';
import { leaseMayBeFree } from './lock.js';
import type { FileQueues } from './queues.js';
import type { Watches } from './watch.js';

/** Wakes re-arm the due timer at most this often (each arming lists two small directories). */
const REARM_MIN_MS = 20;

/** The `NativeNotify` of a file store. */
export class FileNotify implements NativeNotify {
  readonly #stops = new Set<() => Promise<void>>();

  constructor(
    private readonly store: () => Store,
    private readonly watches: () => Watches,
    private readonly queues: () => FileQueues,
  ) {}

  /** Stops every listener (the backend closes). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#stops].map((stop) => stop()));
  }

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    if (topic.kind === 'lock') return this.#listenLock(topic.name, onWake);
    const store = this.store();
    const dir =
      topic.kind === 'queue' ? store.layout.family(store.layout.queuesDir, topic.name, '#q') : store.layout.family(store.layout.logsDir, topic.name, '#log');
    const file = topic.kind === 'queue' ? `${dir}/seq` : `${dir}/meta`;
    let stopped = false;
    const wake = (): void => {
      if (!stopped) onWake();
    };
    let timer: NodeJS.Timeout | undefined;
    let armedAt = 0;
    // The due time a timer already woke for: a bucket nobody claimed from yet is not woken for
    // again (no spin), the next wake or core's re-check takes it from there.
    let firedDue = -Infinity;
    const arm = (): void => {
      if (stopped || topic.kind !== 'queue') return;
      armedAt = performance.now();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      let due: number | undefined;
      try {
        due = this.queues().nextDue(topic.name);
      } catch {
        return; // a listing failed: core's once-a-second re-check still runs
      }
      if (due === undefined || due <= firedDue) return;
      const at = due;
      timer = setTimeout(() => {
        timer = undefined;
        firedDue = at;
        wake();
        arm();
      }, Math.max(0, due - Date.now()) + 1);
      timer.unref();
    };
    const stopWatch = this.watches().watch(dir, file, () => {
      wake();
      // A nack with a delay or a delayed enqueue may have made an earlier due time.
      if (performance.now() - armedAt >= REARM_MIN_MS) arm();
    });
    arm();
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      this.#stops.delete(stop);
      if (timer !== undefined) clearTimeout(timer);
      stopWatch();
    };
    this.#stops.add(stop);
    return stop;
  }

  /**
   * Releases of lock `resource`: the watch of its lease's directory, filtered by the name of the
   * lease's mutex. A release rewrites the record, then unlinks the mutex; the unlink is what
   * wakes (see {@link leaseMayBeFree}), so a woken waiter finds the mutex free.
   * Acquires, extends and other waiters' failed tries touch the same files; the filter's read
   * of the record (no mutex) keeps them from waking anyone, so a swarm's waiters do not all
   * retry (and take the mutex) at every change. The releasing process does nothing extra.
   */
  #listenLock(resource: string, onWake: () => void): () => Promise<void> {
    const files = this.store().layout.lock(resource);
    let stopped = false;
    let pending = false;
    // Every change of the lease is three events (the mutex's link and unlink, the record's
    // write), delivered to every listening process: one look per turn of the event loop.
    const look = (): void => {
      pending = false;
      if (stopped) return;
      let free: boolean;
      try {
        free = leaseMayBeFree(files);
      } catch {
        free = true; // a failed look: let tryLock look (and report) instead
      }
      if (free) onWake();
    };
    const onChange = (): void => {
      if (stopped || pending) return;
      pending = true;
      setImmediate(look);
    };
    // The mutex only: its unlink ends every change (a release's included); the record's own
    // write comes before it and would only add a look that finds the mutex held.
    const stopWatch = this.watches().watch(files.dir, files.mutex, onChange);
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      this.#stops.delete(stop);
      stopWatch();
    };
    this.#stops.add(stop);
    return stop;
  }
}
