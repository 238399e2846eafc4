/**
 * The typed options of the Redis backend, and how `project.yml` settings map onto them.
 */
import { InvalidConfigError } from '@agent-state/core';
import type { BackendContext } from '@agent-state/core/backend';
import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from './layout.js';

/** Options of {@link createRedisBackend}. Every field is optional. */
export interface RedisBackendOptions {
  /**
   * `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS). When set, it wins over
   * `host`, `port`, `db` and `tls`; `username`/`password` still apply when the URL has none.
   */
  url?: string;
  /** Server host. Default `127.0.0.1`. */
  host?: string;
  /** Server port. Default `6379`. */
  port?: number;
  /** Logical database number. Default `0`. */
  db?: number;
  /** ACL user name (Redis 6+). Default: none (the `default` user). */
  username?: string;
  /** Password (usually `${REDIS_PASSWORD}` in project.yml). Default: none. */
  password?: string;
  /** Connect with TLS. Default `false`. */
  tls?: boolean;
  /**
   * Bound on connecting, and on how long a call waits for the connection (or for a reply) before
   * it fails with `BackendUnavailableError`. Default: the config's `connect_timeout_ms` (5000).
   */
  connectTimeoutMs?: number;
  /** First segment of every key; must not contain `{` or `}`. Default `agent-state`. */
  keyPrefix?: string;
  /**
   * An existing ioredis client (`Redis` or `Cluster`) to use instead of opening one. The backend
   * registers its scripts on it but never closes it: its owner does. Connection settings above
   * are then ignored.
   */
  client?: Redis | Cluster;
}

/** Checks options that the config schema cannot (the key prefix must not break the hash tag). */
export function validateOptions(options: RedisBackendOptions, source = 'options'): void {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (prefix === '' || /[{}]/.test(prefix)) {
    throw new InvalidConfigError(
      source,
      source === 'options' ? 'keyPrefix' : 'communication.settings.redis_key_prefix',
      `expected a non-empty string without { or } (they would break the {namespace} hash tag), got ${JSON.stringify(prefix)}`,
    );
  }
}

/** The Redis backend's keys of `communication.settings`, as its module's schema checks them. */
export interface RedisSettings {
  redis_url?: string;
  redis_host?: string;
  redis_port?: number;
  redis_db?: number;
  redis_username?: string;
  redis_password?: string;
  redis_tls?: boolean;
  redis_key_prefix?: string;
}

/**
 * Maps the snake_case settings to {@link RedisBackendOptions}, with the checks the schema cannot
 * make (`InvalidConfigError` naming `communication.settings.<name>` and the value).
 */
export function optionsFromConfig(settings: RedisSettings, context: Pick<BackendContext, 'connectTimeoutMs' | 'source'>): RedisBackendOptions {
  const s = settings;
  const options: RedisBackendOptions = { connectTimeoutMs: context.connectTimeoutMs };
  if (s.redis_url !== undefined) options.url = s.redis_url;
  if (s.redis_host !== undefined) options.host = s.redis_host;
  if (s.redis_port !== undefined) options.port = s.redis_port;
  if (s.redis_db !== undefined) options.db = s.redis_db;
  if (s.redis_username !== undefined && s.redis_username !== '') options.username = s.redis_username;
  if (s.redis_password !== undefined && s.redis_password !== '') options.password = s.redis_password;
  if (s.redis_tls !== undefined) options.tls = s.redis_tls;
  if (s.redis_key_prefix !== undefined) options.keyPrefix = s.redis_key_prefix;
  validateOptions(options, context.source);
  return options;
}

declare module '@agent-state/core' {
  /** `project.yml` settings of the redis backend, typed on core's `Settings` wherever this package is imported. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the keys into core's interface
  interface Settings extends RedisSettings {}
}
