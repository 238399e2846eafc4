/** The SQLite backend's module: what `project.yml` (`backend: sqlite`) opens, and its settings. */
import type { ResolvedConfig } from '@agent-state/core';
import { defineBackend } from '@agent-state/core/backend';
import { backendSettings } from './settings.js';
import { optionsFromConfig, type SqliteSettings } from './options.js';
import { createSqliteBackend, type SqliteBackend } from './sqlite-backend.js';

/**
 * `backend: sqlite`. Settings: `database_path` (default `<project dir>/.agent-state/state.db`, or
 * `:memory:`), `busy_timeout_ms` (default 5000), `synchronous` (`normal` or `full`),
 * `connection_pool_size` (accepted, ignored).
 */
export const backendModule = defineBackend<SqliteSettings>({
  ...backendSettings,
  create: (settings, context) => createSqliteBackend(optionsFromConfig(settings, context)),
});

/**
 * The older entry point, kept for callers of the first wave: a resolved configuration in (its
 * settings already checked by {@link backendModule}'s schema), a backend out.
 */
export function createBackend(config: ResolvedConfig): SqliteBackend {
  return backendModule.create(config.settings as SqliteSettings, config) as SqliteBackend;
}
