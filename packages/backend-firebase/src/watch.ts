/**
 * What this client keeps synchronized with the server, through `on('value')` listeners: the
 * nodes it uses (entries, locks), a bounded most-recently-used set of per-node listeners. Nothing
 * listens to the whole namespace: a commit touches only its own nodes and `list` queries a page
 * (list.ts), so no client's cost grows with the namespace.
 *
 * Why listeners: a transaction starts from the local copy, so with a synchronized copy it
 * usually commits in one round trip instead of two; a read is the local copy after a barrier
 * ({@link Connection.sync}); and it keeps the `firebase-server` emulator healthy, which never
 * drops a listener (it ignores unlisten), so one `once('value')` per read would pile up listeners
 * that each re-send their node on every change.
 *
 * Watches ({@link SyncCache.watch}) ride on the same listeners: a watched node's listener is
 * pinned (never evicted), so a watch never opens a second listener on a node this client follows.
 *
 * Freshness: a listener's first value is answered after the listen request, so it holds every
 * write acknowledged before the listen was sent; a listener that already existed is brought up
 * to date by the barrier. Either way a read sees every write acknowledged before it started.
 * And since one connection delivers the server's pushes in order, the copies of several nodes
 * read together are one state of the database (the state when the last listen or the barrier
 * was answered): that is what read-only commits validate against.
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
  /** Path below the namespace. */
  relPath: string;
}

/** The watchers of one node. */
interface Watch {
  callbacks: Set<() => void>;
  /** The node as last seen (JSON text); `undefined` until a listener delivered it. */
  last: string | undefined;
}

/** The listeners of one client on one namespace. */
export class SyncCache {
  readonly #connection: Connection;
  readonly #root: string;
  readonly #tracked = new Map<string, Listener>();
  readonly #watches = new Map<string, Watch>();

  constructor(connection: Connection, rootPath: string) {
    this.#connection = connection;
    this.#root = rootPath;
  }

  /** Keeps the node at `relPath` (below the namespace) synchronized, without waiting. */
  warm(relPath: string): void {
    this.#listen(relPath);
  }

  /**
   * Keeps the node at `relPath` synchronized and waits until its listener has
   * delivered a value: a transaction then starts from data the server pushed, never from "unknown".
   */
  async ready(relPath: string): Promise<void> {
    const listener = this.#listen(relPath).listener;
    if (listener.snapshot) return;
    listener.busy++;
    try {
      await this.#wait(listener);
    } finally {
      listener.busy--;
    }
  }

  /** The values of the nodes at `relPaths` (below the namespace), as the server has them now. */
  async read(relPaths: readonly string[]): Promise<unknown[]> {
    const listens = relPaths.map((p) => this.#listen(p));
    const snapshots = await this.#fresh(listens);
    return snapshots.map((s) => s.val());
  }

  /**
   * Calls `onChange` whenever the node at `relPath` (below the namespace) changes, as pushed to
   * this client's listeners; returns the function that stops it. Calls only after a change (the
   * node as first seen does not count), except one call when the listener's first value arrives
   * after the watch started: a write in between would otherwise go unnoticed.
   */
  watch(relPath: string, onChange: () => void): () => void {
    let watch = this.#watches.get(relPath);
    if (!watch) {
      watch = { callbacks: new Set(), last: undefined };
      this.#watches.set(relPath, watch);
      const source = this.#listen(relPath).listener;
      if (source.snapshot) watch.last = nodeText(source.snapshot);
    }
    // A fresh function per call: the same callback watched twice is stopped once per watch.
    const callback = (): void => onChange();
    watch.callbacks.add(callback);
    return () => {
      const current = this.#watches.get(relPath);
      if (!current?.callbacks.delete(callback) || current.callbacks.size > 0) return;
      // Its per-node listener (if any) stays: it serves reads and goes with the least recently used.
      this.#watches.delete(relPath);
    };
  }

  /**
   * The node at `relPath` as this client's listener last delivered it (no barrier), or
   * `undefined` when no listener on it has delivered yet. For watch callbacks that need the
   * value they were called about.
   */
  peek(relPath: string): unknown {
    return this.#tracked.get(relPath)?.snapshot?.val();
  }

  /** Stops every listener and every watch. */
  close(): void {
    this.#watches.clear();
    for (const listener of this.#tracked.values()) listener.ref.off();
    this.#tracked.clear();
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
    const listener = this.#start(`${this.#root}/${relPath}`, relPath);
    this.#tracked.set(relPath, listener);
    if (this.#tracked.size > MAX_TRACKED) this.#evict();
    return { listener, created: true };
  }

  #start(path: string, relPath: string): Listener {
    const ref = this.#connection.ref(path);
    const listener: Listener = { ref, ready: Promise.resolve(), snapshot: undefined, busy: 0, relPath };
    listener.ready = new Promise<void>((resolve, reject) => {
      ref.on(
        'value',
        (snapshot) => {
          listener.snapshot = snapshot;
          resolve();
          this.#notify(listener, snapshot);
        },
        (error: Error) => reject(this.#connection.unavailable(`cannot listen to ${path}: ${error.message}`, error)),
      );
    });
    // A listener nobody waits on (warm) must not report its failure as an unhandled rejection.
    listener.ready.catch(() => undefined);
    return listener;
  }

  /** Tells the watchers of the node in `snapshot` if it changed since last seen. */
  #notify(listener: Listener, snapshot: DataSnapshot): void {
    const watch = this.#watches.get(listener.relPath);
    if (watch) this.#changed(watch, snapshot);
  }

  #changed(watch: Watch, node: DataSnapshot): void {
    const text = nodeText(node);
    if (text === watch.last) return;
    watch.last = text;
    for (const callback of [...watch.callbacks]) {
      try {
        callback();
      } catch (error) {
        // The SDK would re-throw it from a timer and end the process; a watch is only a hint.
        process.emitWarning(`agent-state firebase: a watch callback threw: ${String(error)}`);
      }
    }
  }

  #evict(): void {
    for (const [path, listener] of this.#tracked) {
      if (this.#tracked.size <= MAX_TRACKED) return;
      if (listener.busy > 0 || this.#watches.has(path)) continue;
      listener.ref.off();
      this.#tracked.delete(path);
    }
  }
}

/** A node's content as comparable text. */
function nodeText(node: DataSnapshot): string {
  return JSON.stringify(node.val());
}
