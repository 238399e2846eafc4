/** The PostgreSQL backend's module: what `project.yml` (`backend: postgres`) opens, and its settings. */
import { defineBackend } from '@agent-state/core/backend';
import { resolveConfig, type PostgresSettings } from './options.js';
import { PostgresBackend } from './postgres-backend.js';

/**
 * `backend: postgres`. Settings: `postgres_url`, or `postgres_host` / `postgres_port` /
 * `postgres_database` / `postgres_user` / `postgres_password`; `postgres_schema` (default
 * `agent_state`), `postgres_pool_size` (default 10), `statement_timeout_ms` (default 30 000).
 */
export const backendModule = defineBackend<PostgresSettings>({
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
  create: (settings, context) => new PostgresBackend(resolveConfig(settings, context)),
});
