/**
 * The entry point `openState()` calls for `backend: redis`: project.yml settings to options.
 */
import type { ResolvedConfig } from '@agent-state/core';
import { optionsFromConfig } from './options.js';
import { RedisBackend } from './redis-backend.js';

/** Builds the Redis backend from a resolved config (`redis_url`, `redis_host`, … settings). */
export function createBackend(config: ResolvedConfig): RedisBackend {
  return new RedisBackend(optionsFromConfig(config));
}
