/**
 * The typed options of the Redis backend, and how `project.yml` settings map onto them.
 */
import { InvalidConfigError, type ResolvedConfig } from '@agent-state/core';
import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from './keys.js';

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

/** Maps the snake_case settings of a resolved config to {@link RedisBackendOptions}. */
export function optionsFromConfig(config: ResolvedConfig): RedisBackendOptions {
  const s = config.settings;
  const options: RedisBackendOptions = { connectTimeoutMs: config.connectTimeoutMs };
  if (s.redis_url !== undefined) options.url = s.redis_url;
  if (s.redis_host !== undefined) options.host = s.redis_host;
  if (s.redis_port !== undefined) options.port = s.redis_port;
  if (s.redis_db !== undefined) options.db = s.redis_db;
  if (s.redis_username !== undefined && s.redis_username !== '') options.username = s.redis_username;
  if (s.redis_password !== undefined && s.redis_password !== '') options.password = s.redis_password;
  if (s.redis_tls !== undefined) options.tls = s.redis_tls;
  if (s.redis_key_prefix !== undefined) options.keyPrefix = s.redis_key_prefix;
  validateOptions(options, config.source);
  return options;
}
