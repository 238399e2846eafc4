/** The older entry point: a resolved configuration in, a backend out (what `backendModule.create` does). */
import type { ResolvedConfig } from '@agent-state/core';
import type { RedisBackend } from './redis-backend.js';
import { backendModule } from './module.js';
import type { RedisSettings } from './options.js';

/** Creates the backend from a resolved configuration; its settings are checked by the module. */
export function createBackend(config: ResolvedConfig): RedisBackend {
  return backendModule.create(config.settings as RedisSettings, config) as RedisBackend;
}
