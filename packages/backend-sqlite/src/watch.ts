/**
 * Change notification for pollers (core's pub/sub on the log): every committed write of any
 * process appends to the WAL file, so one `fs.watch` on it wakes every watcher of this client at
 * once instead of at its next poll. Calls are spurious by design (any write wakes every key's
 * watcher); a poller then reads and finds nothing new. Without a WAL file (`:memory:`) or when
 * the OS refuses a watch, nothing is called and pollers keep their own pace.
 */
import { watch, type FSWatcher } from 'node:fs';

/** One WAL watcher per client, open only while someone watches. */
export class WalWatcher {
  readonly #listeners = new Set<() => void>();
  #watcher: FSWatcher | undefined;

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

  /** Stops watching (on close of the client). */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #start(): void {
    if (this.#watcher || this.walPath === undefined) return;
    try {
      // persistent: false, so a subscriber alone never keeps the process alive.
      const watcher = watch(this.walPath, { persistent: false }, () => {
        for (const listener of [...this.#listeners]) listener();
      });
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
