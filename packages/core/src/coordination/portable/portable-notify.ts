import type { StateClient } from '../../client.js';
import type { NativeNotify, WakeTopic } from '../../types.js';
import { logKeys, queueKeys } from '../layout.js';

/** Longest pause between two polls of a topic's counter key when the backend cannot watch. */
export const MAX_NOTIFY_POLL_MS = 100;

type Listener = () => void;

const REGISTRY_KEY = Symbol.for('agent-state.portable-notify.listeners');

/** In-process listeners, shared by every client of the process (memory clients share a store). */
function registry(): Map<string, Set<Listener>> {
  const g = globalThis as unknown as Record<symbol, Map<string, Set<Listener>> | undefined>;
  return (g[REGISTRY_KEY] ??= new Map());
}

/** The counter key a topic's writers bump on the portable layout: a queue's or a log's `seq`. */
export function topicKey(topic: WakeTopic): string {
  return topic.kind === 'queue' ? queueKeys(topic.name).seq : logKeys(topic.name).seq;
}

/**
 * Wakeups for the portable families: listeners in this process are called at once by
 * {@link PortableNotify.wake} (the portable queues and logs call it after each write), and
 * writes by other processes are seen through `backend.watch` on the topic's counter key where
 * the backend has it, else by polling that key with a backoff of at most
 * {@link MAX_NOTIFY_POLL_MS}. A single-process backend (memory) needs neither.
 *
 * Spurious wakeups are fine: every waiter re-checks.
 */
export class PortableNotify implements NativeNotify {
  constructor(private readonly state: StateClient) {}

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    const key = topicKey(topic);
    const id = this.#id(key);
    const listeners = registry();
    let set = listeners.get(id);
    if (!set) listeners.set(id, (set = new Set()));
    const listener: Listener = () => onWake();
    set.add(listener);

    const backend = this.state.backend;
    let stopWatch: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    if (backend.watch) {
      stopWatch = backend.watch(key, onWake);
    } else if (backend.capabilities.multiProcess) {
      // No watch: poll the counter. A changed version means another process wrote.
      let last: number | null | undefined;
      let delay = 5;
      const poll = async (): Promise<void> => {
        if (stopped) return;
        try {
          const version = (await backend.read(key))?.version ?? null;
          if (last !== undefined && version !== last) {
            delay = 5;
            onWake();
          } else delay = Math.min(MAX_NOTIFY_POLL_MS, delay * 2);
          last = version;
        } catch {
          // A failed poll is only a missed hint: the waiter re-checks and meets the error itself.
          onWake();
          delay = MAX_NOTIFY_POLL_MS;
        }
        if (!stopped) {
          timer = setTimeout(() => void poll(), delay);
          timer.unref();
        }
      };
      await poll();
    }
    return async () => {
      stopped = true;
      clearTimeout(timer);
      stopWatch?.();
      set.delete(listener);
      if (set.size === 0 && listeners.get(id) === set) listeners.delete(id);
    };
  }

  /** Calls every in-process listener of `topic` (on any client of this process). */
  wake(topic: WakeTopic): void {
    const set = registry().get(this.#id(topicKey(topic)));
    if (!set) return;
    for (const listener of [...set]) listener();
  }

  #id(key: string): string {
    return `${this.state.backend.name}\u0000${this.state.namespace}\u0000${key}`;
  }
}
