/** The Redis backend's module: what `project.yml` (`backend: redis`) opens, and its settings. */
import type { ResolvedConfig } from '@agent-state/core';
import { defineBackend } from '@agent-state/core/backend';
import { backendSettings } from './settings.js';
import { optionsFromConfig, type RedisSettings } from './options.js';
import { RedisBackend } from './redis-backend.js';

/**
 * `backend: redis`. Settings: `redis_url`, or `redis_host` / `redis_port` / `redis_db` /
 * `redis_tls`; `redis_username`, `redis_password`, `redis_key_prefix` (default `agent-state`).
 */
export const backendModule = defineBackend<RedisSettings>({
  ...backendSettings,
  create: (settings, context) => new RedisBackend(optionsFromConfig(settings, context)),
});

/**
 * The older entry point, kept for callers of the first wave: a resolved configuration in (its
 * settings already checked by {@link backendModule}'s schema), a backend out.
 */
export function createBackend(config: ResolvedConfig): RedisBackend {
  return backendModule.create(config.settings as RedisSettings, config) as RedisBackend;
}
