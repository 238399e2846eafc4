/**
 * The settings half of the postgres backend's module, with no runtime imports: core loads it (as
 * `@agent-state/backend-postgres/settings`) to check this backend's keys in a `project.yml` that is
 * configured for another backend, without loading this one.
 */
import type { BackendSettings } from '@agent-state/core/backend';

/**
 * `backend: postgres`. Settings: `postgres_url`, or `postgres_host` / `postgres_port` /
 * `postgres_database` / `postgres_user` / `postgres_password`; `postgres_schema` (default
 * `agent_state`), `postgres_pool_size` (default 10), `statement_timeout_ms` (default 30 000).
 */
export const backendSettings: BackendSettings = {
  name: 'postgres',
  settings: (z, t) =>
    z.object({
      postgres_url: t.url().optional(),
      postgres_host: t.string().optional(),
      postgres_port: t.port().optional(),
      postgres_database: t.string().optional(),
      postgres_user: t.string().optional(),
      postgres_password: t.string().optional(),
      postgres_schema: t.string().optional(),
      postgres_pool_size: t.positiveInt().optional(),
      statement_timeout_ms: t.positiveInt().optional(),
    }),
  } satisfies BackendSettings;

export default backendSettings;
