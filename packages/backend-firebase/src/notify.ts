/**
 * Wakeups for blocking waits: a listener on the queue or log node (the same mirror the family
 * uses), so the server's push of any change — an enqueue, a nack, an append, from any process —
 * calls `onWake` without polling. Spurious wakeups (a claim, an ack) are fine; core re-checks.
 * Due delayed jobs and ended leases push nothing: core's fallback re-check covers them.
 * Lock topics listen to the lock node and wake on each release (lock.ts `listenForRelease`).
 */
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import type { FirebaseLogs } from './logs.js';
import type { FirebaseQueues } from './queues.js';

/** Listens for releases of one resource's lease; resolves with the function that stops it. */
export type ReleaseListener = (resource: string, onWake: () => void) => Promise<() => void>;

export class FirebaseNotify implements NativeNotify {
  constructor(
    private readonly queues: () => FirebaseQueues,
    private readonly logs: () => FirebaseLogs,
    private readonly locks: ReleaseListener,
  ) {}

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    if (topic.kind === 'lock') {
      const stopLock = await this.locks(topic.name, onWake);
      return async () => stopLock();
    }
    const mirror = topic.kind === 'queue' ? this.queues().mirror(topic.name) : this.logs().mirror(topic.name);
    const stop = mirror.onChange(onWake);
    // Resolves once the listener is live: a change after this point always calls onWake.
    await mirror.local();
    return async () => stop();
  }
}
