/**
 * The pool and the one way every operation talks to the server: {@link Db.query} for a single
 * statement (autocommit) and {@link Db.tx} for a transaction on one pooled connection. Both map
 * driver errors to agent-state errors; a transaction that hit a deadlock or a serialization
 * failure (rolled back by the server) runs again, a bounded number of times.
 */
import type { ClientConfig, Pool, PoolClient } from 'pg';
import { StateClosedError } from '@agent-state/core';
import { isRetryable, toStateError } from './errors.js';
import type { ResolvedPostgresOptions } from './options.js';

/** The node-postgres module. */
export type Driver = typeof import('pg').default;

let driver: Promise<Driver> | undefined;
/**
 * node-postgres, imported on first use: where a pool or client is opened, never when this package
 * is imported, so a process that only checks settings or reads a cache (the CLI's fast path)
 * never loads it.
 */
export function loadDriver(): Promise<Driver> {
  driver ??= import('pg').then((m) => m.default);
  return driver;
}

let types: ClientConfig['types'] | undefined;
/** BIGINT columns (epoch ms, versions, seqs, tokens) come back as numbers; they stay below 2^53. */
function typesOf(pg: Driver): ClientConfig['types'] {
  // Made once: there is one driver module per process (loadDriver).
  return (types ??= {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
      if (oid === 20) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format as 'text');
    }) as Driver['types']['getTypeParser'],
  });
}

/** Runs of a transaction after a deadlock or serialization failure, at most. */
const TX_ATTEMPTS = 5;

/** One statement inside a transaction. */
export type Query = <R extends object = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;

/** node-postgres connection settings shared by the pool and the LISTEN client. */
export function clientConfig(pg: Driver, options: ResolvedPostgresOptions, connectTimeoutMs: number, namespace?: string): ClientConfig {
  return {
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    ...(options.password !== undefined && { password: options.password }),
    connectionTimeoutMillis: connectTimeoutMs,
    // Server side: no statement (lock waits included) and no forgotten transaction runs unbounded.
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(options.statementTimeoutMs * 2, 10_000),
    // Client side: a server that stops answering is noticed too (a little after the server's own bound).
    query_timeout: options.statementTimeoutMs + 2_000,
    // Operators see which namespace a connection serves (pg_stat_activity); Postgres keeps 63 bytes.
    application_name: namespace === undefined ? 'agent-state' : `agent-state ${namespace}`.slice(0, 63),
    keepAlive: true,
    types: typesOf(pg),
  };
}

export class Db {
  readonly pool: Pool;
  #closed = false;

  /** Loads the driver (see {@link loadDriver}) and makes the pool; nothing connects yet. */
  static async open(options: ResolvedPostgresOptions, connectTimeoutMs: number, namespace?: string): Promise<Db> {
    return new Db(await loadDriver(), options, connectTimeoutMs, namespace);
  }

  constructor(
    pg: Driver,
    readonly options: ResolvedPostgresOptions,
    connectTimeoutMs: number,
    namespace?: string,
  ) {
    // Pool size 1: its one connection also carries the LISTEN (notify.ts), so it stays open (min 1)
    // instead of closing after 30 s idle and costing a reconnect and a wake of every waiter.
    this.pool = new pg.Pool({
      ...clientConfig(pg, options, connectTimeoutMs, namespace),
      max: options.poolSize,
      min: options.poolSize === 1 ? 1 : 0,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
    // An idle pooled connection the server dropped: the pool discards it; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  get target(): string {
    return this.options.target;
  }

  /** One statement in autocommit mode (run again after a deadlock or serialization failure, which rolled it back). */
  async query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new StateClosedError('use the postgres backend (closed)');
      try {
        const result = await this.pool.query<R>(text, values);
        return result.rows;
      } catch (error) {
        // A deadlock victim's statement was rolled back whole: running it again is safe.
        if (isRetryable(error) && attempt < TX_ATTEMPTS) continue;
        throw toStateError(error, this.target, this.options.poolSize);
      }
    }
  }

  /**
   * Runs `work` in one READ COMMITTED transaction on one connection: BEGIN, work, COMMIT, or
   * ROLLBACK on any error. A deadlock or serialization failure runs it again (it was rolled back).
   */
  async tx<T>(work: (query: Query) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new StateClosedError('use the postgres backend (closed)');
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw toStateError(error, this.target, this.options.poolSize);
      }
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const query: Query = async (text, values) => (await client.query(text, values)).rows as never;
        const result = await work(query);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollback) {
          broken = rollback as Error;
        }
        if (isRetryable(error) && attempt < TX_ATTEMPTS) continue;
        throw toStateError(error, this.target, this.options.poolSize);
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end().catch(() => undefined);
  }
}

/** A schema-qualified, quoted identifier prefix: `"agent_state".` */
export function qualify(schema: string): string {
  return `"${schema}".`;
}
