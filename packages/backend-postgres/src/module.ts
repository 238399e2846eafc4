/** The PostgreSQL backend's module: what `project.yml` (`backend: postgres`) opens, and its settings. */
import { defineBackend } from '@agent-state/core/backend';
import { backendSettings } from './settings.js';
import { resolveConfig, type PostgresSettings } from './options.js';
import { PostgresBackend } from './postgres-backend.js';

/**
 * `backend: postgres`. Settings: `postgres_url`, or `postgres_host` / `postgres_port` /
 * `postgres_database` / `postgres_user` / `postgres_password`; `postgres_schema` (default
 * `agent_state`), `postgres_pool_size` (default 10), `statement_timeout_ms` (default 30 000).
 */
export const backendModule = defineBackend<PostgresSettings>({
  ...backendSettings,
  create: (settings, context) => new PostgresBackend(resolveConfig(settings, context)),
});
