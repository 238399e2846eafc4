/**
 * The PostgreSQL backend's options, and the mapping from the snake_case `project.yml` settings.
 */
import { InvalidConfigError } from '@agent-state/core';
import type { BackendContext } from '@agent-state/core/backend';

/** Options of {@link createPostgresBackend}. Every default is stated here, once. */
export interface PostgresBackendOptions {
  /** `postgres://user:password@host:port/database`; the separate fields below override its parts. */
  url?: string;
  /** Default `127.0.0.1` (when no URL names one). */
  host?: string;
  /** Default 5432. */
  port?: number;
  /** Default `postgres`. */
  database?: string;
  /** Default `postgres`. */
  user?: string;
  password?: string;
  /** The schema that holds every table of the store (created when missing). Default `agent_state`. */
  schema?: string;
  /** Connections of this client's pool (the LISTEN connection is one more). Default 10. */
  poolSize?: number;
  /** Bound on every statement, lock waits included (Postgres `statement_timeout`), in ms. Default 30 000. */
  statementTimeoutMs?: number;
}

export const DEFAULT_SCHEMA = 'agent_state';
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 5432;
const DEFAULT_USER = 'postgres';
const DEFAULT_DATABASE = 'postgres';

/** A schema name the backend accepts: a plain lower-case identifier (never needs quoting rules beyond "…"). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Options with every default filled in. */
export interface ResolvedPostgresOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  schema: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** Where the store is, for messages: `postgres://user@host:port/database#schema`, never a password. */
  target: string;
}

/** Checks the options and fills in the defaults; `InvalidConfigError` names the wrong one and its value. */
export function resolveOptions(options: PostgresBackendOptions, source = 'createPostgresBackend', prefix = 'options.'): ResolvedPostgresOptions {
  const fail = (field: string, problem: string): never => {
    throw new InvalidConfigError(source, `${prefix}${field}`, problem);
  };
  const names = prefix === 'options.' ? NAMES_OPTIONS : NAMES_SETTINGS;
  let fromUrl: Partial<ResolvedPostgresOptions> = {};
  if (options.url !== undefined) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      return fail(names.url, `expected a postgres:// URL, got ${JSON.stringify(redact(options.url))}`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      fail(names.url, `expected a postgres:// or postgresql:// URL, got ${JSON.stringify(redact(options.url))}`);
    }
    const port = url.port === '' ? undefined : Number(url.port);
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    fromUrl = {
      ...(url.hostname && { host: decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') }),
      ...(port !== undefined && { port }),
      ...(database && { database }),
      ...(url.username && { user: decodeURIComponent(url.username) }),
      ...(url.password && { password: decodeURIComponent(url.password) }),
    };
  }
  const text = (field: keyof typeof names, value: unknown) => {
    if (value !== undefined && (typeof value !== 'string' || value === '')) fail(names[field], `expected a non-empty string, got ${JSON.stringify(value)}`);
  };
  text('host', options.host);
  text('database', options.database);
  text('user', options.user);
  if (options.password !== undefined && typeof options.password !== 'string') fail(names.password, 'expected a string');
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) fail(names.port, `expected a whole number from 1 to 65535, got ${String(port)}`);
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    fail(names.schema, `expected a lower-case identifier (a-z, 0-9, _; at most 63; not starting with a digit), got ${JSON.stringify(schema)}`);
  }
  const pool = options.poolSize;
  if (pool !== undefined && (!Number.isInteger(pool) || pool < 1 || pool > 1000)) fail(names.poolSize, `expected a whole number from 1 to 1000, got ${String(pool)}`);
  const timeout = options.statementTimeoutMs;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) fail(names.statementTimeoutMs, `expected a whole number > 0, got ${String(timeout)}`);
  const resolved = {
    host: options.host ?? fromUrl.host ?? DEFAULT_HOST,
    port: port ?? fromUrl.port ?? DEFAULT_PORT,
    database: options.database ?? fromUrl.database ?? DEFAULT_DATABASE,
    user: options.user ?? fromUrl.user ?? DEFAULT_USER,
    password: options.password ?? fromUrl.password,
    schema,
    poolSize: pool ?? DEFAULT_POOL_SIZE,
    statementTimeoutMs: timeout ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  };
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  return { ...resolved, target: `postgres://${resolved.user}@${host}:${resolved.port}/${resolved.database}#${schema}` };
}

const NAMES_OPTIONS = {
  url: 'url',
  host: 'host',
  port: 'port',
  database: 'database',
  user: 'user',
  password: 'password',
  schema: 'schema',
  poolSize: 'poolSize',
  statementTimeoutMs: 'statementTimeoutMs',
};
const NAMES_SETTINGS = {
  url: 'postgres_url',
  host: 'postgres_host',
  port: 'postgres_port',
  database: 'postgres_database',
  user: 'postgres_user',
  password: 'postgres_password',
  schema: 'postgres_schema',
  poolSize: 'postgres_pool_size',
  statementTimeoutMs: 'statement_timeout_ms',
};

/** A URL with its password replaced, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/** The PostgreSQL backend's keys of `communication.settings`, as its module's schema checks them. */
export interface PostgresSettings {
  postgres_url?: string;
  postgres_host?: string;
  postgres_port?: number;
  postgres_database?: string;
  postgres_user?: string;
  postgres_password?: string;
  postgres_schema?: string;
  postgres_pool_size?: number;
  statement_timeout_ms?: number;
}

/** Maps `project.yml` settings (checked by the module's schema, `${VAR}` substituted) to options. */
export function optionsFromConfig(settings: PostgresSettings): PostgresBackendOptions {
  const s = settings;
  return {
    ...(s.postgres_url !== undefined && { url: s.postgres_url }),
    ...(s.postgres_host !== undefined && { host: s.postgres_host }),
    ...(s.postgres_port !== undefined && { port: s.postgres_port }),
    ...(s.postgres_database !== undefined && { database: s.postgres_database }),
    ...(s.postgres_user !== undefined && { user: s.postgres_user }),
    ...(s.postgres_password !== undefined && { password: s.postgres_password }),
    ...(s.postgres_schema !== undefined && { schema: s.postgres_schema }),
    ...(s.postgres_pool_size !== undefined && { poolSize: s.postgres_pool_size }),
    ...(s.statement_timeout_ms !== undefined && { statementTimeoutMs: s.statement_timeout_ms }),
  };
}

/** Settings to resolved options, errors naming `communication.settings.<name>` and the config's source. */
export function resolveConfig(settings: PostgresSettings, context: Pick<BackendContext, 'source'>): ResolvedPostgresOptions {
  return resolveOptions(optionsFromConfig(settings), context.source, 'communication.settings.');
}

declare module '@agent-state/core' {
  /** `project.yml` settings of the postgres backend, typed on core's `Settings` wherever this package is imported. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the keys into core's interface
  interface Settings extends PostgresSettings {}
}
