import type { ResolvedConfig } from '@agent-state/core';
import { optionsFromConfig } from './options.js';
import { createSqliteBackend, type SqliteBackend } from './sqlite-backend.js';

/** What `openState()` calls: maps the `project.yml` settings to {@link createSqliteBackend} options. */
export function createBackend(config: ResolvedConfig): SqliteBackend {
  return createSqliteBackend(optionsFromConfig(config));
}
