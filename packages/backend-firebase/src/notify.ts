/**
 * Wakeups for blocking waits: a listener on the queue or log node (the same mirror the family
 * uses), so the server's push of any change — an enqueue, a nack, an append, from any process —
 * calls `onWake` without polling. Spurious wakeups (a claim, an ack) are fine; core re-checks.
 * Due delayed jobs and ended leases push nothing: core's fallback re-check covers them.
 */
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import type { FirebaseLogs } from './logs.js';
import type { FirebaseQueues } from './queues.js';

export class FirebaseNotify implements NativeNotify {
  constructor(
    private readonly queues: () => FirebaseQueues,
    private readonly logs: () => FirebaseLogs,
  ) {}

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    const mirror = topic.kind === 'queue' ? this.queues().mirror(topic.name) : this.logs().mirror(topic.name);
    const stop = mirror.onChange(onWake);
    // Resolves once the listener is live: a change after this point always calls onWake.
    await mirror.local();
    return async () => stop();
  }
}
