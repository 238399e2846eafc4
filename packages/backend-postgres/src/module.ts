/** The PostgreSQL backend's module: what `project.yml` (`backend: postgres`) opens, and its settings. */
import type { ResolvedConfig } from '@agent-state/core';
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

/**
 * The older entry point, kept for callers of the first wave: a resolved configuration in (its
 * settings already checked by {@link backendModule}'s schema), a backend out.
 */
export function createBackend(config: ResolvedConfig): PostgresBackend {
  return backendModule.create(config.settings as PostgresSettings, config) as PostgresBackend;
}
