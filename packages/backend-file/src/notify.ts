/**
 * Cross-process wakeups for native queues and logs: an inotify watch (watch.ts, one per
 * directory, shared) of the file every change of the topic touches: a queue's `seq` record
 * (rewritten by each enqueue, its times bumped by nack, retry and delayed enqueues) and a log's
 * `meta` record (rewritten by each append). No timer here: the safety net for what no file
 * change announces (a delayed job coming due, a lease running out, a watch that could not be set
 * up) is core's re-check of every wait once a second (coordination/families.ts).
 */
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import type { Store } from './store.js';
import type { Watches } from './watch.js';

/** The `NativeNotify` of a file store. */
export class FileNotify implements NativeNotify {
  constructor(
    private readonly store: () => Store,
    private readonly watches: () => Watches,
  ) {}

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    const store = this.store();
    const dir =
      topic.kind === 'queue' ? store.layout.family(store.layout.queuesDir, topic.name, '#q') : store.layout.family(store.layout.logsDir, topic.name, '#log');
    const file = topic.kind === 'queue' ? `${dir}/seq` : `${dir}/meta`;
    let stopped = false;
    const wake = (): void => {
      if (!stopped) onWake();
    };
    const stopWatch = this.watches().watch(dir, file, wake);
    return async () => {
      if (stopped) return;
      stopped = true;
      stopWatch();
    };
  }
}
