/**
 * `@agent-state/backend-postgres`: agent-state on PostgreSQL (node-postgres): `FOR UPDATE SKIP
 * LOCKED` queue claims, `LISTEN/NOTIFY` wakeups, logs as tables, server-clock TTLs and leases.
 */
export { backendModule, backendModule as default, createBackend } from './module.js';
export { createPostgresBackend, PostgresBackend, channelFor, LOG_SWEEP_INTERVAL_MS } from './postgres-backend.js';
export type { PostgresBackendOptions, PostgresSettings, ResolvedPostgresOptions } from './options.js';
export { DEFAULT_SCHEMA, DEFAULT_POOL_SIZE, DEFAULT_STATEMENT_TIMEOUT_MS, resolveOptions } from './options.js';
export { FORMAT_VERSION } from './layout.js';
export { storageCounts, dropNamespace } from './storage.js';
export type { StorageCounts } from './storage.js';
