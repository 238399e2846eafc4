/**
 * Cross-process wakeups with LISTEN/NOTIFY. Two ways to hold the LISTEN, chosen by the pool size:
 *
 * - Pool size 1 (shared): the pool's one connection carries the LISTEN too, so a process holds
 *   ONE connection of the server's `max_connections`, not two. Every connection the pool opens
 *   LISTENs before its first statement (the pool's `connect` event queues the LISTEN ahead of the
 *   caller's query), and the pool keeps it open (`min: 1`). node-postgres emits `notification` on
 *   the client whatever it is doing; the server sends them between transactions, so a wakeup may
 *   wait for the statement or transaction in flight on that connection (a single-connection
 *   process is serialised on it anyway).
 * - Larger pools (dedicated): one more connection of its own (a pooled connection goes back after
 *   each statement and any of several may be the one that carries it; a dedicated one never waits
 *   behind a query).
 *
 * Every change that may wake someone NOTIFYs in the same statement or transaction as the change
 * (enqueue, nack, dead-letter retry, append, entry writes, a waited-for lock release), so Postgres delivers it exactly when
 * the change commits, never before and never for a rolled-back change. One channel per schema
 * and namespace; the payload names the topic (`q<queue>`, `l<log>`, `k<key>`, `r<resource>`).
 *
 * If the connection drops (either way), it reconnects with backoff, LISTENs again and then wakes every
 * listener once (a NOTIFY sent while it was away is lost, so everyone re-checks). A queue
 * listener also arms one timer for the queue's earliest delayed job or lease end, so a job
 * coming due wakes its waiters although nobody NOTIFYs then.
 */
import type { Client, Notification, Pool, PoolClient } from 'pg';
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import { clientConfig, loadDriver } from './connection.js';
import { lockPayload, logPayload, queuePayload } from './context.js';
import { toStateError } from './errors.js';
import type { ResolvedPostgresOptions } from './options.js';

/** Longest timer armed for a queue's next due job (re-armed at every wake). */
const MAX_DUE_TIMER_MS = 60_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

interface Topic {
  callbacks: Set<() => void>;
  queue?: string;
  dueTimer?: NodeJS.Timeout | undefined;
  /**
   * The latest due time (the server's epoch ms) a timer fired for: the next timer is for a later
   * one. A timed job stays due until it is claimed, so re-arming for it would fire (and query)
   * every few milliseconds until then.
   */
  firedDue?: number;
}

export class PostgresNotify implements NativeNotify {
  readonly #topics = new Map<string, Topic>();
  #client: Client | undefined;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #options: ResolvedPostgresOptions | undefined;
  #channel = '';
  #connectTimeoutMs = 10_000;
  #namespace: string | undefined;
  /** Shared mode: the pool whose connections carry the LISTEN. */
  #pool: Pool | undefined;
  /** Shared mode: each pooled connection's LISTEN, once issued. */
  readonly #listening = new WeakMap<Client, Promise<void>>();
  readonly #onConnect = (client: PoolClient): void => {
    this.#adopt(client).catch(() => undefined);
  };
  readonly #onNotification = (message: Notification): void => {
    if (message.channel === this.#channel && message.payload !== undefined) this.#wake(message.payload);
  };
  /** Reads a queue's next due time after `after` and the ms until it (set by the backend). */
  nextDueIn: ((queue: string, after: number) => Promise<{ due: number; inMs: number } | undefined>) | undefined;

  /** Called by the backend's init; with `pool`, its connections carry the LISTEN (shared mode, pool size 1). */
  configure(options: ResolvedPostgresOptions, channel: string, connectTimeoutMs: number, namespace?: string, pool?: Pool): void {
    this.#options = options;
    this.#pool = pool;
    this.#namespace = namespace;
    this.#channel = channel;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** Resolves once the LISTEN is confirmed; every NOTIFY committed after that reaches `onWake`. */
  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    // The NOTIFY payload that names this topic (context.ts), so a payload finds its listeners.
    const key = topic.kind === 'queue' ? queuePayload(topic.name) : topic.kind === 'lock' ? lockPayload(topic.name) : logPayload(topic.name);
    const stop = this.#add(key, onWake, topic.kind === 'queue' ? topic.name : undefined);
    try {
      await this.#ensure();
    } catch (error) {
      stop();
      throw error;
    }
    if (topic.kind === 'queue') this.#armDue(key);
    return async () => stop();
  }

  /** Calls `onChange` after `key` may have changed (entry writes NOTIFY `k<key>`); starts listening in the background. */
  watch(key: string, onChange: () => void): () => void {
    const stop = this.#add(`k${key}`, onChange);
    this.#ensure().catch(() => undefined);
    return stop;
  }

  #add(key: string, callback: () => void, queue?: string): () => void {
    let topic = this.#topics.get(key);
    if (!topic) {
      topic = { callbacks: new Set(), ...(queue !== undefined && { queue }) };
      this.#topics.set(key, topic);
    }
    const entry = () => callback();
    topic.callbacks.add(entry);
    return () => {
      const t = this.#topics.get(key);
      if (!t) return;
      t.callbacks.delete(entry);
      if (t.callbacks.size === 0) {
        if (t.dueTimer) clearTimeout(t.dueTimer);
        this.#topics.delete(key);
      }
    };
  }

  #wake(key: string): void {
    const topic = this.#topics.get(key);
    if (!topic) return;
    for (const callback of [...topic.callbacks]) {
      try {
        callback();
      } catch {
        // A listener's failure is its own.
      }
    }
    if (topic.queue !== undefined) this.#armDue(key);
  }

  /** One timer per queue topic for its earliest timed job (a delayed job or a lease coming due). */
  #armDue(key: string): void {
    const topic = this.#topics.get(key);
    if (!topic || topic.queue === undefined || !this.nextDueIn) return;
    this.nextDueIn(topic.queue, topic.firedDue ?? 0).then(
      (next) => {
        const t = this.#topics.get(key);
        if (!t || this.#closed) return;
        if (t.dueTimer) clearTimeout(t.dueTimer);
        t.dueTimer = undefined;
        if (next === undefined) return;
        const capped = next.inMs + 5 > MAX_DUE_TIMER_MS;
        t.dueTimer = setTimeout(() => {
          t.dueTimer = undefined;
          // A capped timer fired before the due time: that one is still to come.
          if (!capped) t.firedDue = Math.max(t.firedDue ?? 0, next.due);
          this.#wake(key);
        }, Math.min(next.inMs + 5, MAX_DUE_TIMER_MS));
        t.dueTimer.unref();
      },
      () => undefined,
    );
  }

  /** Connects and LISTENs once; concurrent callers share the attempt. */
  #ensure(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#client) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const options = this.#options;
    if (!options) throw new Error('postgres notify used before init');
    if (this.#pool) return this.#connectShared(this.#pool, options);
    const pg = await loadDriver();
    const client = new pg.Client({ ...clientConfig(pg, options, this.#connectTimeoutMs, this.#namespace), statement_timeout: 0, query_timeout: this.#connectTimeoutMs });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#channel}"`);
    } catch (error) {
      client.end().catch(() => undefined);
      throw toStateError(error, options.target, options.poolSize);
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('notification', this.#onNotification);
    client.once('end', () => this.#lost(client));
    client.on('error', () => client.end().catch(() => undefined));
    this.#client = client;
  }

  /**
   * Shared mode: from now on every connection the pool opens LISTENs first; the pool's current
   * connection (an idle one from before, or a new one) is checked out until its LISTEN is confirmed.
   */
  async #connectShared(pool: Pool, options: ResolvedPostgresOptions): Promise<void> {
    if (!pool.listeners('connect').includes(this.#onConnect)) pool.on('connect', this.#onConnect);
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStateError(error, options.target, options.poolSize);
    }
    let broken: Error | undefined;
    try {
      await this.#adopt(client);
    } catch (error) {
      broken = error as Error;
      throw toStateError(error, options.target, options.poolSize);
    } finally {
      client.release(broken);
    }
  }

  /** Shared mode: LISTENs on a pooled connection (once) and takes it as the one that carries the wakeups. */
  #adopt(client: Client): Promise<void> {
    const known = this.#listening.get(client);
    if (known) return known;
    // Attached before the LISTEN is sent: a NOTIFY parsed in the same chunk as its reply is not missed.
    client.on('notification', this.#onNotification);
    const done = client.query(`LISTEN "${this.#channel}"`).then(
      () => {
        if (this.#closed) return;
        this.#client = client;
        client.once('end', () => {
          if (this.#client === client) this.#lost(client);
        });
      },
      (error: unknown) => {
        client.off('notification', this.#onNotification);
        this.#listening.delete(client);
        throw error;
      },
    );
    this.#listening.set(client, done);
    return done;
  }

  /** The LISTEN connection went away: reconnect with backoff, then wake everyone once. */
  #lost(client: Client, delay = RECONNECT_MIN_MS): void {
    if (this.#client === client) this.#client = undefined;
    if (this.#closed || this.#topics.size === 0) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#ensure().then(
        () => {
          for (const key of [...this.#topics.keys()]) this.#wake(key);
        },
        () => this.#lost(client, Math.min(delay * 2, RECONNECT_MAX_MS)),
      );
    }, delay);
    this.#retry.unref();
  }

  /** For tests: drops the LISTEN connection as a network failure would (dedicated mode). */
  async dropConnection(): Promise<void> {
    const client = this.#client;
    if (client) await client.end();
  }

  /** True when the pool's connections carry the LISTEN (pool size 1) instead of a dedicated one. */
  get shared(): boolean {
    return this.#pool !== undefined;
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    for (const topic of this.#topics.values()) if (topic.dueTimer) clearTimeout(topic.dueTimer);
    this.#topics.clear();
    const client = this.#client;
    this.#client = undefined;
    await this.#connecting?.catch(() => undefined);
    const late = this.#client as Client | undefined;
    if (this.#pool) {
      // The pool's connections are the pool's to end (Db.close); only stop listening through them.
      this.#pool.off('connect', this.#onConnect);
      for (const c of [client, late]) c?.off('notification', this.#onNotification);
      return;
    }
    await Promise.all([client, late].filter((x): x is Client => x !== undefined).map((c) => c.end().catch(() => undefined)));
  }
}
