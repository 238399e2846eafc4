/**
 * A listener that keeps one subtree of the database synchronized in this client, for the native
 * queue and log nodes: `snapshot()` is the local copy after a read barrier (so it holds every
 * write acknowledged before the call), and `onChange` callbacks run on every push, which is what
 * `notify.listen` is made of. One per queue or log this client touches, kept until `close()`:
 * the firebase-server emulator ignores unlisten, so listeners are never churned.
 */
import type { DataSnapshot, Reference } from 'firebase-admin/database';
import type { Connection } from './connection.js';

export class Mirror {
  readonly #connection: Connection;
  readonly #ref: Reference;
  readonly #ready: Promise<void>;
  readonly #callbacks = new Set<() => void>();
  #snapshot: DataSnapshot | undefined;

  constructor(connection: Connection, path: string) {
    this.#connection = connection;
    this.#ref = connection.ref(path);
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#ref.on(
        'value',
        (snapshot) => {
          this.#snapshot = snapshot;
          resolve();
          for (const callback of [...this.#callbacks]) {
            try {
              callback();
            } catch (error) {
              // The SDK would re-throw it from a timer and end the process; a wakeup is only a hint.
              process.emitWarning(`agent-state firebase: a listener callback threw: ${String(error)}`);
            }
          }
        },
        (error: Error) => reject(connection.unavailable(`cannot listen to ${path}: ${error.message}`, error)),
      );
    });
    this.#ready.catch(() => undefined);
  }

  /** The local copy once the listener delivered its first value (no barrier). */
  async local(): Promise<DataSnapshot> {
    await this.#connection.bounded(this.#ready, 'read');
    return this.#snapshot!;
  }

  /** The subtree as the server has it now: the local copy after a barrier. */
  async fresh(): Promise<DataSnapshot> {
    await this.#connection.bounded(this.#ready, 'read');
    await this.#connection.sync();
    return this.#snapshot!;
  }

  /** The latest local copy; only after {@link local} or {@link fresh} resolved once. */
  current(): DataSnapshot {
    return this.#snapshot!;
  }

  /** Calls `callback` after every change pushed to this client; returns the function that stops it. */
  onChange(callback: () => void): () => void {
    const once = (): void => callback();
    this.#callbacks.add(once);
    return () => void this.#callbacks.delete(once);
  }

  close(): void {
    this.#callbacks.clear();
    this.#ref.off();
  }
}

/** Mirrors by path, created on first use and closed together. */
export class Mirrors {
  readonly #connection: Connection;
  readonly #byPath = new Map<string, Mirror>();

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  get(path: string): Mirror {
    let mirror = this.#byPath.get(path);
    if (!mirror) {
      mirror = new Mirror(this.#connection, path);
      this.#byPath.set(path, mirror);
    }
    return mirror;
  }

  close(): void {
    for (const mirror of this.#byPath.values()) mirror.close();
    this.#byPath.clear();
  }
}
