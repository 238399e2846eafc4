/**
 * `@agent-state/backend-redis`: the agent-state backend on Redis (standalone or Cluster).
 */
export { createRedisBackend } from './redis-backend.js';
export type { RedisBackend } from './redis-backend.js';
export type { RedisBackendOptions, RedisSettings } from './options.js';
export { backendModule, backendModule as default, createBackend } from './module.js';
export { storageCount } from './storage.js';
export type { StorageCountOptions } from './storage.js';
