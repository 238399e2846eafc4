/** The SQLite backend's module: what `project.yml` (`backend: sqlite`) opens, and its settings. */
import { defineBackend } from '@agent-state/core/backend';
import { backendSettings } from './settings.js';
import { optionsFromConfig, type SqliteSettings } from './options.js';
import { createSqliteBackend } from './sqlite-backend.js';

/**
 * `backend: sqlite`. Settings: `database_path` (default `<project dir>/.agent-state/state.db`, or
 * `:memory:`), `busy_timeout_ms` (default 5000), `synchronous` (`normal` or `full`),
 * `connection_pool_size` (accepted, ignored).
 */
export const backendModule = defineBackend<SqliteSettings>({
  ...backendSettings,
  create: (settings, context) => createSqliteBackend(optionsFromConfig(settings, context)),
});
