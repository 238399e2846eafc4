import type { ResolvedConfig } from '@agent-state/core';
import { resolveConfig } from './options.js';
import { PostgresBackend } from './postgres-backend.js';

/** What `openState()` calls: maps the `project.yml` settings to the backend's options (checked, naming the setting). */
export function createBackend(config: ResolvedConfig): PostgresBackend {
  return new PostgresBackend(resolveConfig(config));
}
