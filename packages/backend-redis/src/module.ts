/** The Redis backend's module: what `project.yml` (`backend: redis`) opens, and its settings. */
import { defineBackend } from '@agent-state/core/backend';
import { optionsFromConfig, type RedisSettings } from './options.js';
import { RedisBackend } from './redis-backend.js';

/**
 * `backend: redis`. Settings: `redis_url`, or `redis_host` / `redis_port` / `redis_db` /
 * `redis_tls`; `redis_username`, `redis_password`, `redis_key_prefix` (default `agent-state`).
 */
export const backendModule = defineBackend<RedisSettings>({
  name: 'redis',
  settings: (z, t) =>
    z.object({
      redis_url: t.url().optional(),
      redis_host: t.string().optional(),
      redis_port: t.port().optional(),
      redis_db: t.count().optional(),
      redis_username: t.string().optional(),
      redis_password: t.string().optional(),
      redis_tls: t.boolean().optional(),
      redis_key_prefix: t.string().optional(),
    }),
  create: (settings, context) => new RedisBackend(optionsFromConfig(settings, context)),
});
