/** The older entry point: a resolved configuration in, a backend out (what `backendModule.create` does). */
import type { ResolvedConfig } from '@agent-state/core';
import type { PostgresBackend } from './postgres-backend.js';
import { backendModule } from './module.js';
import type { PostgresSettings } from './options.js';

/** Creates the backend from a resolved configuration; its settings are checked by the module. */
export function createBackend(config: ResolvedConfig): PostgresBackend {
  return backendModule.create(config.settings as PostgresSettings, config) as PostgresBackend;
}
