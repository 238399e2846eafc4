/**
 * What this client keeps synchronized with the server, through `on('value')` listeners:
 *
 * - the nodes it uses (entries, locks), a bounded most-recently-used set of per-node listeners;
 * - or, once it lists or commits, the whole namespace node (the mirror): both need every entry.
 *
 * Why listeners: a transaction starts from the local copy, so with a synchronized copy it
 * usually commits in one round trip instead of two; a read is the local copy after a barrier
 * ({@link Connection.sync}); and it keeps the `firebase-server` emulator healthy, which never
 * drops a listener (it ignores unlisten), so one `once('value')` per read would pile up listeners
 * that each re-send their node on every change.
 *
 * Freshness: a listener's first value is answered after the listen request, so it holds every
 * write acknowledged before the listen was sent; a listener that already existed is brought up
 * to date by the barrier. Either way a read sees every write acknowledged before it started.
 */
import type { DataSnapshot, Reference } from 'firebase-admin/database';
import type { Connection } from './connection.js';

/** Per-node listeners kept at most; the least recently used is dropped first. */
const MAX_TRACKED = 1_000;

interface Listener {
  ref: Reference;
  ready: Promise<void>;
  snapshot: DataSnapshot | undefined;
  /** Reads waiting on this listener; a busy listener is never dropped. */
  busy: number;
}

/** The listeners of one client on one namespace. */
export class SyncCache {
  readonly #connection: Connection;
  readonly #root: string;
  readonly #tracked = new Map<string, Listener>();
  #mirror: Listener | undefined;

  constructor(connection: Connection, rootPath: string) {
    this.#connection = connection;
    this.#root = rootPath;
  }

  /** Keeps the node at `relPath` (below the namespace) synchronized, without waiting. */
  warm(relPath: string): void {
    if (!this.#mirror) this.#listen(relPath);
  }

  /** The values of the nodes at `relPaths` (below the namespace), as the server has them now. */
  async read(relPaths: readonly string[]): Promise<unknown[]> {
    if (this.#mirror) {
      const snapshot = await this.#fresh([{ listener: this.#mirror, created: false }]);
      return relPaths.map((p) => snapshot[0]!.child(p).val());
    }
    const listens = relPaths.map((p) => this.#listen(p));
    const snapshots = await this.#fresh(listens);
    return snapshots.map((s) => s.val());
  }

  /** The whole namespace as the server has it now; starts the mirror on first use. */
  async namespace(): Promise<DataSnapshot> {
    const created = this.#mirror === undefined;
    this.#mirror ??= this.#start(this.#root);
    const [snapshot] = await this.#fresh([{ listener: this.#mirror, created }]);
    return snapshot!;
  }

  /** Starts the mirror (if needed) and waits for its first value: transactions on it then start warm. */
  async mirror(): Promise<void> {
    this.#mirror ??= this.#start(this.#root);
    await this.#wait(this.#mirror);
  }

  /** Stops every listener. */
  close(): void {
    for (const listener of this.#tracked.values()) listener.ref.off();
    this.#tracked.clear();
    this.#mirror?.ref.off();
    this.#mirror = undefined;
  }

  /** Waits for the listeners, adds a barrier unless every one was created by this call. */
  async #fresh(listens: readonly { listener: Listener; created: boolean }[]): Promise<DataSnapshot[]> {
    for (const { listener } of listens) listener.busy++;
    try {
      await Promise.all(listens.map(({ listener }) => this.#wait(listener)));
      if (listens.some(({ created }) => !created)) await this.#connection.sync();
      return listens.map(({ listener }) => listener.snapshot!);
    } finally {
      for (const { listener } of listens) listener.busy--;
    }
  }

  #wait(listener: Listener): Promise<void> {
    return this.#connection.bounded(listener.ready, 'read');
  }

  #listen(relPath: string): { listener: Listener; created: boolean } {
    const existing = this.#tracked.get(relPath);
    if (existing) {
      // Most recently used goes last.
      this.#tracked.delete(relPath);
      this.#tracked.set(relPath, existing);
      return { listener: existing, created: false };
    }
    const listener = this.#start(`${this.#root}/${relPath}`);
    this.#tracked.set(relPath, listener);
    if (this.#tracked.size > MAX_TRACKED) this.#evict();
    return { listener, created: true };
  }

  #start(path: string): Listener {
    const ref = this.#connection.ref(path);
    const listener: Listener = { ref, ready: Promise.resolve(), snapshot: undefined, busy: 0 };
    listener.ready = new Promise<void>((resolve, reject) => {
      ref.on(
        'value',
        (snapshot) => {
          listener.snapshot = snapshot;
          resolve();
        },
        (error: Error) => reject(this.#connection.unavailable(`cannot listen to ${path}: ${error.message}`, error)),
      );
    });
    // A listener nobody waits on (warm) must not report its failure as an unhandled rejection.
    listener.ready.catch(() => undefined);
    return listener;
  }

  #evict(): void {
    for (const [path, listener] of this.#tracked) {
      if (this.#tracked.size <= MAX_TRACKED) return;
      if (listener.busy > 0) continue;
      listener.ref.off();
      this.#tracked.delete(path);
    }
  }
}
