/**
 * Cross-process wakeups without polling, aimed at the waiters of one topic. Every enqueue, nack,
 * retry, append and lock release (after its commit) touches the topic's bell: a tiny file named after a hash of
 * (namespace, kind, name) in the directory `<database>-wake/`. Each listening client watches
 * that directory (one inotify watch) and, for an event naming a bell it listens to, reads that
 * topic's counter (a queue's `wake`, a log's `last_seq`, a lock's token) and wakes its waiters. A commit wakes
 * only the processes waiting on what it changed: fifty agents each blocked on its own queue are
 * not all woken (and all re-reading) for every lock, write and message of the others, as they
 * were when every listener woke on every append to the WAL file.
 *
 * Also: the process's own enqueue / nack / append wake its listeners of the same database at
 * once (no file round trip, and `:memory:` has neither WAL nor bells); a queue listener arms one
 * timer for the queue's earliest delayed job or lease end, so a job coming due wakes its waiters
 * too; when the bell directory cannot be watched, the listener falls back to the WAL watch
 * (watch.ts: any commit wakes, the counters decide); and a re-check every {@link FALLBACK_MS}
 * covers a writer that rings no bell (an older version, a tool writing rows directly) and a
 * watch the OS dropped.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, utimes, watch, type FSWatcher } from 'node:fs';
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import type { Scope } from './context.js';
import type { WalWatcher } from './watch.js';

/** Safety-net re-check of every listened counter, in ms. */
export const FALLBACK_MS = 1_000;
let fallbackMs = FALLBACK_MS;
/** For tests: a longer fallback proves a wakeup came from the WAL watch, not from the re-check. */
export function setNotifyFallbackMs(ms: number): void {
  fallbackMs = ms;
}
let counterReads = 0;
/** For tests: how many topic counters this process has read (each wake check reads one per topic). */
export function notifyCounterReads(): number {
  return counterReads;
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
  /**
   * The latest due time a timer fired for: later reads look only past it. A timed job stays due
   * until it is claimed, so re-arming for it would fire every millisecond until then.
   */
  firedDue: number;
  /** The topic's bell file name (undefined before init). */
  bell: string | undefined;
}

/** Every notifier of this process, by database path and namespace: the in-process wake bus. */
const local = new Map<string, Set<SqliteNotify>>();

const keyOf = (topic: WakeTopic) => `${topic.kind}\u0000${topic.name}`;

/** The directory of a database's bells (undefined for `:memory:`, which has no other process). */
export function bellDirOf(databasePath: string): string | undefined {
  return databasePath === ':memory:' || databasePath === '' ? undefined : `${databasePath}-wake`;
}

const bellNames = new Map<string, string>();
/** The bell file name of a topic: 32 hex digits of sha-256 over (namespace, kind, name). */
export function bellName(namespace: string, kind: WakeTopic['kind'], name: string): string {
  const id = `${namespace}\u0000${kind}\u0000${name}`;
  let bell = bellNames.get(id);
  if (bell === undefined) {
    bell = createHash('sha256').update(id).digest('hex').slice(0, 32);
    if (bellNames.size > 10_000) bellNames.clear();
    bellNames.set(id, bell);
  }
  return bell;
}

/**
 * Rings a topic's bell for the other processes: bumps the file's times (an inotify IN_ATTRIB seen
 * by every watcher of the directory). Only listeners make bells (see {@link makeBell}), so a
 * topic nobody waits on costs one failed call and leaves no file. Asynchronous (on libuv's
 * thread pool) so that the enqueue or append that rings pays neither the syscall nor, when there
 * is no bell, a thrown error; a bell that cannot be rung leaves the waiters to their re-check.
 */
function ring(dir: string, bell: string): void {
  const now = new Date();
  utimes(`${dir}/${bell}`, now, now, () => undefined);
}

/** Makes a listener's bell file (and the directory, 0700); false when that fails. */
function makeBell(dir: string, bell: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(`${dir}/${bell}`, 'a', 0o600));
    return true;
  } catch {
    return false;
  }
}

export class SqliteNotify implements NativeNotify {
  readonly #topics = new Map<string, TopicState>();
  /** The topics listened to, by bell file name. */
  readonly #byBell = new Map<string, string>();
  #bells: FSWatcher | undefined;
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
  static wakeLocal(databasePath: string, namespace: string, kind: WakeTopic['kind'], name: string): void {
    const dir = bellDirOf(databasePath);
    if (dir !== undefined) ring(dir, bellName(namespace, kind, name));
    const set = local.get(`${databasePath}\u0000${namespace}`);
    if (!set) return;
    for (const notifier of set) notifier.#wakeLocal(`${kind}\u0000${name}`);
  }

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    if (this.#closed) return async () => undefined;
    const key = keyOf(topic);
    let state = this.#topics.get(key);
    if (!state) {
      state = { topic, callbacks: new Set(), last: undefined, dueTimer: undefined, dueAt: Infinity, firedDue: 0, bell: undefined };
      this.#topics.set(key, state);
      const namespace = this.scope()?.namespace;
      const dir = bellDirOf(this.databasePath);
      if (namespace !== undefined && dir !== undefined) {
        state.bell = bellName(namespace, topic.kind, topic.name);
        this.#byBell.set(state.bell, key);
        // Made before the caller's next look (core checks again after listen), so no ring is missed.
        makeBell(dir, state.bell);
      }
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
        if (st.bell !== undefined && this.#byBell.get(st.bell) === key) this.#byBell.delete(st.bell);
      }
      if (this.#topics.size === 0) this.#stop();
    };
  }

  /** Stops everything (client close). */
  close(): void {
    this.#closed = true;
    for (const st of this.#topics.values()) if (st.dueTimer) clearTimeout(st.dueTimer);
    this.#topics.clear();
    this.#byBell.clear();
    this.#stop();
  }

  #start(): void {
    if (this.#bells || this.#unwatch) return;
    this.#bells = this.#watchBells();
    // No bells to watch: the WAL watch (any commit), which coalesces bursts (watch.ts).
    if (!this.#bells) this.#unwatch = this.watcher.add(() => this.#check());
    this.#fallback = setInterval(() => this.#check(), fallbackMs);
    this.#fallback.unref();
    const busKey = `${this.databasePath}\u0000${this.scope()?.namespace ?? ''}`;
    let set = local.get(busKey);
    if (!set) local.set(busKey, (set = new Set()));
    set.add(this);
    this.#busKey = busKey;
  }

  /** One watch of the bell directory (made, 0700, when missing); undefined when that fails. */
  #watchBells(): FSWatcher | undefined {
    const dir = bellDirOf(this.databasePath);
    if (dir === undefined) return undefined;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // persistent: false, so a waiter alone never keeps the process alive.
      const bells = watch(dir, { persistent: false }, (event, filename) => {
        if (filename === null || filename === undefined) return this.#check();
        // A ring is a 'change' (times bumped); 'rename' is a bell being made or removed.
        if (event !== 'change') return;
        const key = this.#byBell.get(String(filename));
        if (key !== undefined) this.#wakeLocal(key);
      });
      // A watch that dies (the directory removed, inotify limits): the WAL watch takes over.
      bells.on('error', () => {
        bells.close();
        if (this.#bells !== bells) return;
        this.#bells = undefined;
        if (!this.#closed && this.#topics.size > 0 && !this.#unwatch) this.#unwatch = this.watcher.add(() => this.#check());
        this.#check();
      });
      return bells;
    } catch {
      return undefined;
    }
  }

  #stop(): void {
    this.#bells?.close();
    this.#bells = undefined;
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
    counterReads++;
    try {
      const { kind, name } = state.topic;
      if (kind === 'log') {
        state.last = s.ls.lastSeq.get(s.namespace, name) ?? undefined;
      } else if (kind === 'lock') {
        // The lease's token, undefined once released: any release or new holder moves it.
        state.last = s.st.readLock.get(s.namespace, name)?.[1];
      } else {
        state.last = s.qs.wake.get(s.namespace, name) ?? undefined;
        this.#armDue(state, s.qs.nextDue.get(s.namespace, name, state.firedDue) ?? null);
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
      state.firedDue = Math.max(state.firedDue, dueAt);
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
