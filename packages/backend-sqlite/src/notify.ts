/**
 * Cross-process wakeups without polling. Every commit of any process appends to the WAL file,
 * so the client's WAL watch (watch.ts) fires; the listener then reads one counter per topic it
 * listens to (a queue's `wake`, bumped by enqueue, nack and retry; a log's `last_seq`) and wakes
 * only the topics whose counter moved. Those are reads, which never write the WAL, so waking does
 * not feed itself, and a busy store does not make idle waiters claim.
 *
 * Also: the process's own enqueue / nack / append wake its listeners of the same database at
 * once (no WAL round trip, and `:memory:` has no WAL); a queue listener arms one timer for the
 * queue's earliest delayed job or lease end, so a job coming due wakes its waiters too; and a
 * fallback re-check every {@link FALLBACK_MS} covers a WAL watch the OS dropped.
 */
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import type { Scope } from './scope.js';
import type { WalWatcher } from './watch.js';

/** Safety-net re-check of every listened counter, in ms. */
export const FALLBACK_MS = 1_000;
let fallbackMs = FALLBACK_MS;
/** For tests: a longer fallback proves a wakeup came from the WAL watch, not from the re-check. */
export function setNotifyFallbackMs(ms: number): void {
  fallbackMs = ms;
}
/** Longest timer armed for a queue's next due job (re-armed at every check). */
const MAX_DUE_TIMER_MS = 60_000;

interface TopicState {
  topic: WakeTopic;
  callbacks: Set<() => void>;
  /** The counter last seen (undefined = not read yet or the row does not exist). */
  last: number | undefined;
  dueTimer: NodeJS.Timeout | undefined;
  dueAt: number;
}

/** Every notifier of this process, by database path and namespace: the in-process wake bus. */
const local = new Map<string, Set<SqliteNotify>>();

const keyOf = (topic: WakeTopic) => `${topic.kind}\u0000${topic.name}`;

export class SqliteNotify implements NativeNotify {
  readonly #topics = new Map<string, TopicState>();
  #unwatch: (() => void) | undefined;
  #fallback: NodeJS.Timeout | undefined;
  #closed = false;
  /** The key this notifier is registered under in the in-process bus while it listens. */
  #busKey: string | undefined;

  constructor(
    /** The client's scope now (undefined before init and once closed). */
    private readonly scope: () => Scope | undefined,
    private readonly watcher: WalWatcher,
    private readonly databasePath: string,
  ) {}

  /** Wakes this process's listeners of `topic` on the same database and namespace, at once. */
  static wakeLocal(databasePath: string, namespace: string, kind: 'queue' | 'log', name: string): void {
    const set = local.get(`${databasePath}\u0000${namespace}`);
    if (!set) return;
    for (const notifier of set) notifier.#wakeLocal(`${kind}\u0000${name}`);
  }

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    if (this.#closed) return async () => undefined;
    const key = keyOf(topic);
    let state = this.#topics.get(key);
    if (!state) {
      state = { topic, callbacks: new Set(), last: undefined, dueTimer: undefined, dueAt: Infinity };
      this.#topics.set(key, state);
      this.#read(state);
    }
    state.callbacks.add(onWake);
    this.#start();
    const callback = onWake;
    const st = state;
    return async () => {
      st.callbacks.delete(callback);
      if (st.callbacks.size === 0 && this.#topics.get(key) === st) {
        if (st.dueTimer) clearTimeout(st.dueTimer);
        this.#topics.delete(key);
      }
      if (this.#topics.size === 0) this.#stop();
    };
  }

  /** Stops everything (client close). */
  close(): void {
    this.#closed = true;
    for (const st of this.#topics.values()) if (st.dueTimer) clearTimeout(st.dueTimer);
    this.#topics.clear();
    this.#stop();
  }

  #start(): void {
    if (this.#unwatch) return;
    // The watcher coalesces bursts of commits (watch.ts), so each wakeup is one round of reads.
    this.#unwatch = this.watcher.add(() => this.#check());
    this.#fallback = setInterval(() => this.#check(), fallbackMs);
    this.#fallback.unref();
    const busKey = `${this.databasePath}\u0000${this.scope()?.namespace ?? ''}`;
    let set = local.get(busKey);
    if (!set) local.set(busKey, (set = new Set()));
    set.add(this);
    this.#busKey = busKey;
  }

  #stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    if (this.#fallback) clearInterval(this.#fallback);
    this.#fallback = undefined;
    const busKey = this.#busKey;
    this.#busKey = undefined;
    if (busKey === undefined) return;
    const set = local.get(busKey);
    set?.delete(this);
    if (set?.size === 0) local.delete(busKey);
  }

  /** Reads every listened counter; wakes the topics that moved. */
  #check(): void {
    for (const [key, state] of this.#topics) {
      const before = state.last;
      if (!this.#read(state) || state.last !== before) this.#wakeTopic(key);
    }
  }

  /**
   * Reads the topic's counter (and re-arms a queue's due timer). False when the read failed:
   * the caller wakes anyway (a spurious wakeup is fine, a missed one is not).
   */
  #read(state: TopicState): boolean {
    const s = this.scope();
    if (!s) return false;
    try {
      const { kind, name } = state.topic;
      if (kind === 'log') {
        state.last = s.ls.lastSeq.get(s.namespace, name) ?? undefined;
      } else {
        state.last = s.qs.wake.get(s.namespace, name) ?? undefined;
        this.#armDue(state, s.qs.nextDue.get(s.namespace, name) ?? null);
      }
      return true;
    } catch {
      return false;
    }
  }

  /** One timer per queue topic for its earliest due timed job. */
  #armDue(state: TopicState, dueAt: number | null): void {
    if (dueAt === null || dueAt >= state.dueAt) return;
    if (state.dueTimer) clearTimeout(state.dueTimer);
    state.dueAt = dueAt;
    const delay = Math.min(Math.max(0, dueAt - Date.now()) + 1, MAX_DUE_TIMER_MS);
    state.dueTimer = setTimeout(() => {
      state.dueTimer = undefined;
      state.dueAt = Infinity;
      const key = keyOf(state.topic);
      if (this.#topics.get(key) !== state) return;
      this.#read(state);
      this.#wakeTopic(key);
    }, delay);
    state.dueTimer.unref();
  }

  /** A wake from this process: re-read first (re-arms a queue's due timer), then wake. */
  #wakeLocal(key: string): void {
    const state = this.#topics.get(key);
    if (!state) return;
    this.#read(state);
    this.#wakeTopic(key);
  }

  #wakeTopic(key: string): void {
    const state = this.#topics.get(key);
    if (!state) return;
    for (const callback of [...state.callbacks]) {
      try {
        callback();
      } catch {
        // A listener's own error is its business; the others still wake.
      }
    }
  }
}
