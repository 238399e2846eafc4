/**
 * Cross-process wakeups with LISTEN/NOTIFY on one dedicated connection per client (not from the
 * pool: a pooled connection goes back after each statement, a LISTEN must stay).
 *
 * Every change that may wake someone NOTIFYs in the same statement or transaction as the change
 * (enqueue, nack, dead-letter retry, append, entry writes), so Postgres delivers it exactly when
 * the change commits, never before and never for a rolled-back change. One channel per schema
 * and namespace; the payload names the topic (`q<queue>`, `l<log>`, `k<key>`).
 *
 * If the connection drops, it reconnects with backoff, LISTENs again and then wakes every
 * listener once (a NOTIFY sent while it was away is lost, so everyone re-checks). A queue
 * listener also arms one timer for the queue's earliest delayed job or lease end, so a job
 * coming due wakes its waiters although nobody NOTIFYs then.
 */
import pg from 'pg';
import type { NativeNotify, WakeTopic } from '@agent-state/core';
import { clientConfig } from './connection.js';
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
}

export class PostgresNotify implements NativeNotify {
  readonly #topics = new Map<string, Topic>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #options: ResolvedPostgresOptions | undefined;
  #channel = '';
  #connectTimeoutMs = 10_000;
  #namespace: string | undefined;
  /** Reads the ms until a queue's next due job (set by the backend). */
  nextDueIn: ((queue: string) => Promise<number | undefined>) | undefined;

  /** Called by the backend's init. */
  configure(options: ResolvedPostgresOptions, channel: string, connectTimeoutMs: number, namespace?: string): void {
    this.#options = options;
    this.#namespace = namespace;
    this.#channel = channel;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** Resolves once the LISTEN is confirmed; every NOTIFY committed after that reaches `onWake`. */
  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    const key = (topic.kind === 'queue' ? 'q' : 'l') + topic.name;
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
    this.nextDueIn(topic.queue).then(
      (ms) => {
        const t = this.#topics.get(key);
        if (!t || this.#closed) return;
        if (t.dueTimer) clearTimeout(t.dueTimer);
        t.dueTimer = undefined;
        if (ms === undefined) return;
        t.dueTimer = setTimeout(() => {
          t.dueTimer = undefined;
          this.#wake(key);
        }, Math.min(ms + 5, MAX_DUE_TIMER_MS));
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
    const client = new pg.Client({ ...clientConfig(options, this.#connectTimeoutMs, this.#namespace), statement_timeout: 0, query_timeout: this.#connectTimeoutMs });
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
    client.on('notification', (message) => {
      if (message.channel === this.#channel && message.payload !== undefined) this.#wake(message.payload);
    });
    client.once('end', () => this.#lost(client));
    client.on('error', () => client.end().catch(() => undefined));
    this.#client = client;
  }

  /** The LISTEN connection went away: reconnect with backoff, then wake everyone once. */
  #lost(client: pg.Client, delay = RECONNECT_MIN_MS): void {
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

  /** For tests: drops the LISTEN connection as a network failure would. */
  async dropConnection(): Promise<void> {
    const client = this.#client;
    if (client) await client.end();
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
    const late = this.#client as pg.Client | undefined;
    await Promise.all([client, late].filter((x): x is pg.Client => x !== undefined).map((c) => c.end().catch(() => undefined)));
  }
}
