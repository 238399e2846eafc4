/**
 * The settings half of the redis backend's module, with no runtime imports: core loads it (as
 * `@agent-state/backend-redis/settings`) to check this backend's keys in a `project.yml` that is
 * configured for another backend, without loading this one.
 */
import type { BackendSettings } from '@agent-state/core/backend';

/**
 * `backend: redis`. Settings: `redis_url`, or `redis_host` / `redis_port` / `redis_db` /
 * `redis_tls`; `redis_username`, `redis_password`, `redis_key_prefix` (default `agent-state`).
 */
export const backendSettings: BackendSettings = {
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
  } satisfies BackendSettings;

export default backendSettings;
