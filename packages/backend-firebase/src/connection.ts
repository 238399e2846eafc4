/**
 * One firebase-admin app per backend instance: connecting within the timeout, the server clock,
 * the read barrier, bounding operations while the connection is down, and closing.
 *
 * firebase-admin retries a lost connection forever by itself; this class turns "no connection
 * for `connectTimeoutMs`" into `BackendUnavailableError` for `init` and for pending operations.
 */
import { randomUUID } from 'node:crypto';
import { BackendUnavailableError, withTimeout } from '@agent-state/core';
import { deleteApp, initializeApp, type App, type AppOptions } from 'firebase-admin/app';
import { getDatabase, type Database, type Reference } from 'firebase-admin/database';
import { EMULATOR_ENV, type ResolvedFirebaseOptions } from './options.js';
import { HEALTH_PATH } from './layout.js';

const BACKEND = 'firebase';
let appCount = 0;

/** An open connection to one namespace. */
export class Connection {
  readonly #app: App;
  readonly #db: Database;
  readonly #target: string;
  readonly #timeoutMs: number;
  #offsetMs = 0;
  #connected = false;
  #down = false;
  #downTimer: NodeJS.Timeout | undefined;
  readonly #pending = new Set<(error: Error) => void>();
  #closed: Promise<void> | undefined;
  #syncInFlight: Promise<void> | undefined;
  #syncQueued: Promise<void> | undefined;

  private constructor(resolved: ResolvedFirebaseOptions, rootPath: string, timeoutMs: number) {
    const options: AppOptions = { databaseURL: resolved.databaseUrl };
    if (resolved.credential) options.credential = resolved.credential;
    if (resolved.projectId !== undefined) options.projectId = resolved.projectId;
    // A named app per instance: apps sharing a name share one connection and one cache, and
    // deleting ours on close must not cut off another client.
    this.#app = initializeApp(options, `agent-state-${process.pid}-${++appCount}-${randomUUID().slice(0, 8)}`);
    this.#db = withEmulatorEnv(resolved.emulatorHost, () => getDatabase(this.#app));
    this.#target = `${resolved.target}/${rootPath}`;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Connects and waits for the first copy of the namespace, within `timeoutMs`; otherwise tears
   * the app down and throws `BackendUnavailableError`.
   */
  static async open(resolved: ResolvedFirebaseOptions, rootPath: string, timeoutMs: number): Promise<Connection> {
    const connection = new Connection(resolved, rootPath, timeoutMs);
    try {
      await connection.#start();
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    return connection;
  }

  /** Where the namespace is, for messages. */
  get target(): string {
    return this.#target;
  }

  /** `connect_timeout_ms`: the bound on waiting for the database, including retry loops. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The server's clock as estimated by the SDK (`.info/serverTimeOffset`), epoch ms. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  get serverTimeOffsetMs(): number {
    return this.#offsetMs;
  }

  /**
   * Resolves once the mirror holds every write the server acknowledged (to anyone) before this
   * call. The server pushes a change to listeners before it acknowledges the write, and one
   * connection delivers in order, so the answer to any request we send now comes after those
   * pushes: one round trip is the barrier. Calls made while a round trip is in flight wait for
   * the next one (the one in flight may have been answered before their write was); calls made
   * while that next one is queued share it.
   */
  sync(): Promise<void> {
    if (this.#syncQueued) return this.#syncQueued;
    if (this.#syncInFlight) {
      this.#syncQueued = this.#syncInFlight
        .catch(() => undefined)
        .then(() => {
          this.#syncQueued = undefined;
          return this.sync();
        });
      return this.#syncQueued;
    }
    this.#syncInFlight = this.bounded(this.#roundTrip(), 'read').finally(() => {
      this.#syncInFlight = undefined;
    });
    return this.#syncInFlight;
  }

  /** A reference below the database root. */
  ref(path: string): Reference {
    return this.#db.ref(path);
  }

  /**
   * Resolves or rejects with `promise`, unless the connection stays down for the connect
   * timeout first: then `BackendUnavailableError` (the operation may still apply later).
   */
  bounded<T>(promise: Promise<T>, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error): void => reject(error);
      if (this.#down) {
        promise.catch(() => undefined);
        fail(this.unavailable(`${operation}: no connection for ${this.#timeoutMs} ms`));
        return;
      }
      this.#pending.add(fail);
      promise.then(
        (value) => {
          this.#pending.delete(fail);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(fail);
          reject(error);
        },
      );
    });
  }

  /** Stops listening and deletes the app, which closes its socket. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearTimeout(this.#downTimer);
      this.#db.ref('.info/connected').off();
      this.#db.ref('.info/serverTimeOffset').off();
      await deleteApp(this.#app);
    })();
    return this.#closed;
  }

  async #start(): Promise<void> {
    this.#db.ref('.info/serverTimeOffset').on('value', (snap) => {
      const offset: unknown = snap.val();
      this.#offsetMs = typeof offset === 'number' ? offset : 0;
    });
    const first = this.#roundTrip();
    try {
      await withTimeout(first, this.#timeoutMs, () => this.unavailable(`no answer within ${this.#timeoutMs} ms`));
    } catch (error) {
      first.catch(() => undefined);
      if (error instanceof BackendUnavailableError) throw error;
      throw this.unavailable(`cannot read ${HEALTH_PATH}: ${String(error)}`, error);
    }
    this.#db.ref('.info/connected').on('value', (snap) => this.#onConnected(snap.val() === true));
  }

  /** One request and its answer: a read of a node that nobody writes. */
  async #roundTrip(): Promise<void> {
    await this.#db.ref(HEALTH_PATH).once('value');
  }

  #onConnected(connected: boolean): void {
    this.#connected = connected;
    clearTimeout(this.#downTimer);
    if (connected) {
      this.#down = false;
      return;
    }
    this.#downTimer = setTimeout(() => {
      this.#down = true;
      const error = this.unavailable(`connection lost for ${this.#timeoutMs} ms`);
      for (const fail of this.#pending) fail(error);
      this.#pending.clear();
    }, this.#timeoutMs);
    // The timer only bounds pending operations; it must not keep the process alive.
    this.#downTimer.unref();
  }

  /** A `BackendUnavailableError` naming this connection's target. */
  unavailable(detail: string, cause?: unknown): BackendUnavailableError {
    return new BackendUnavailableError(BACKEND, this.#target, detail, cause === undefined ? undefined : { cause });
  }
}

/**
 * firebase-admin reads FIREBASE_DATABASE_EMULATOR_HOST when it creates the database, and the
 * variable wins over the URL. Setting it for that synchronous call only makes the
 * `emulator_host` setting authoritative without changing the environment of other clients.
 */
function withEmulatorEnv<T>(emulatorHost: string | undefined, fn: () => T): T {
  const saved = process.env[EMULATOR_ENV];
  if (emulatorHost === undefined) delete process.env[EMULATOR_ENV];
  else process.env[EMULATOR_ENV] = emulatorHost;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env[EMULATOR_ENV];
    else process.env[EMULATOR_ENV] = saved;
  }
}
