/**
 * Change notification for pollers (core's pub/sub on the log): every committed write of any
 * process appends to the WAL file, so one `fs.watch` on it wakes every watcher of this client at
 * once instead of at its next poll. Calls are spurious by design (any write wakes every key's
 * watcher); a poller then reads and finds nothing new. A `:memory:` database has no WAL file: its
 * writers (all in this process) wake its watchers directly. When the OS refuses a watch, nothing
 * is called and pollers keep their own pace.
 */
import { watch, type FSWatcher } from 'node:fs';

/** Shortest spacing of two wakeups from one watcher, in ms (the first of a burst goes at once). */
export const COALESCE_MS = 2;

/** The watchers of `:memory:` clients of this process: woken by {@link WalWatcher.pokeMemory}. */
const memoryWatchers = new Set<WalWatcher>();

/** One WAL watcher per client, open only while someone watches. */
export class WalWatcher {
  /**
   * Wakes the watchers of every `:memory:` client of this process (there is no WAL file to
   * watch; every writer of an in-memory database is in this process, and calls this after a write).
   */
  static pokeMemory(): void {
    for (const watcher of memoryWatchers) watcher.#schedule();
  }

  readonly #listeners = new Set<() => void>();
  #watcher: FSWatcher | undefined;
  #scheduled = false;
  #last = -Infinity;

  /** `walPath` undefined = nothing to watch (in-memory database). */
  constructor(private readonly walPath: string | undefined) {}

  /** Calls `onChange` after writes; returns the function that stops it. */
  add(onChange: () => void): () => void {
    this.#listeners.add(onChange);
    this.#start();
    return () => {
      this.#listeners.delete(onChange);
      if (this.#listeners.size === 0) this.close();
    };
  }

  /**
   * Coalesces WAL events: the first after a quiet spell reaches the listeners on the next turn of
   * the event loop, a burst at most once per {@link COALESCE_MS} with a trailing call, so that the
   * last commit of a burst is never missed while thousands of commits a second cost each process
   * a bounded number of wakeups.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const fire = () => {
      this.#scheduled = false;
      this.#last = performance.now();
      for (const listener of [...this.#listeners]) listener();
    };
    const wait = this.#last + COALESCE_MS - performance.now();
    if (wait <= 0) setImmediate(fire);
    else setTimeout(fire, wait).unref();
  }

  /** Stops watching (on close of the client). */
  close(): void {
    memoryWatchers.delete(this);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #start(): void {
    if (this.walPath === undefined) {
      memoryWatchers.add(this);
      return;
    }
    if (this.#watcher) return;
    try {
      // persistent: false, so a subscriber alone never keeps the process alive.
      const watcher = watch(this.walPath, { persistent: false }, () => this.#schedule());
      // A watch that fails later (file replaced, inotify limits) only costs promptness: the
      // pollers it would have woken still poll.
      watcher.on('error', () => {
        if (this.#watcher === watcher) this.#watcher = undefined;
        watcher.close();
      });
      this.#watcher = watcher;
    } catch {
      // No WAL file yet or no watch support: the same fallback as above.
    }
  }
}
