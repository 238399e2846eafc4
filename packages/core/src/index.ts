export { openState, loadBackend } from './open-state.js';
export type { OpenStateOptions } from './open-state.js';
export { defineBackend, registerBackend, loadBackendModule, findBackendModule, memoryModule } from './backend-module.js';
export type { BackendModule, BackendContext, BackendSettings, SettingsSchema } from './backend-module.js';
export type { SettingTypes, ZodApi } from './config/zod.js';
export { StateClient } from './client.js';
export type { WriteOptions, DeleteOptions, ListOptions, LockOptions, RetryOptions, UpdateOptions, WaitForOptions, LeaseRef } from './client.js';
export { Lock } from './lock.js';
export { Transaction } from './transaction.js';
export type { TxWriteOptions } from './transaction.js';
export * from './errors.js';
export type * from './types.js';
export {
  loadConfig,
  configuredBackend,
  findConfigFile,
  CONFIG_FILE_NAME,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_LOCK_TTL_MS,
} from './config/load.js';
export type { ResolvedConfig, LoadConfigOptions, ConfiguredBackend } from './config/load.js';
export type { ConfigCacheOptions } from './config/cache.js';
export { COMMON_SETTINGS, DEFAULT_BACKEND, FIRST_PARTY_SETTING_NAMES } from './config/schema.js';
export type { BackendName, Settings, CommunicationConfigInput } from './config/schema.js';
export {
  assertKey,
  assertPrefix,
  assertSegment,
  assertJsonValue,
  assertPositive,
  keyProblem,
  serializeValue,
  MAX_KEY_LENGTH,
  DEFAULT_MAX_VALUE_BYTES,
} from './validate.js';
export { assertVersion, assertLeaseHeld, leaseIsLive, makeEntry, compareKeys, keyInPage } from './backend-kit.js';
export { retryOnConflict, waitForLock } from './retry.js';
export { Backoff, sleep, isExpired, withTimeout } from './timing.js';
export { newClientId, parseOwner, ownerIsDeadLocally, localHost } from './owner.js';
export type { OwnerInfo } from './owner.js';
export { MemoryBackend, createMemoryBackend, memoryStoreCount } from './memory/memory-backend.js';
export { Queue, Job, resolvePriority } from './coordination/queue.js';
export type { EnqueueOptions, DequeueOptions, QueueOptions, JobRecord, DeadLetter } from './coordination/queue.js';
export type { SubscribeOptions, PublishOptions, ChannelMessage, Unsubscribe, Subscription } from './coordination/pubsub.js';
export { Log } from './coordination/log.js';
export type { LogEntry, LogReadOptions, LogFollowOptions } from './coordination/log.js';
export { families, usePortableCoordination } from './coordination/families.js';
export type { Families, WakeSource } from './coordination/families.js';
export { blockingWait } from './coordination/wait.js';
export type { BlockingWait } from './coordination/wait.js';
export { PortableQueues } from './coordination/portable/portable-queues.js';
export { PortableLogs } from './coordination/portable/portable-logs.js';
export { PortableNotify, MAX_NOTIFY_POLL_MS } from './coordination/portable/portable-notify.js';
export { Agents } from './coordination/agents.js';
export type { RegisterOptions, AgentInfo, AgentStatus } from './coordination/agents.js';
export { Mailbox } from './coordination/mailbox.js';
export type { MailMessage, ReceiveOptions } from './coordination/mailbox.js';
export { NAMED_PRIORITIES, RESERVED_PREFIX, queueKeys, channelKeys, mailKeys, logKeys, jobId, channelLog, mailLog, userLog } from './coordination/layout.js';
export type { NamedPriority } from './coordination/layout.js';
export { ACTIVE_MARKER_KEY, SWITCHED_MARKER_KEY, FENCE_REFRESH_MS } from './migration-fence.js';
export type { OnMigration } from './migration-fence.js';
export {
  StateMetrics,
  OpStats,
  LATENCY_BUCKETS_MS,
  metricsOf,
  meteredBackend,
  prefixOf,
  audit,
  auditActor,
  auditMigration,
  auditRepair,
  auditLock,
  AUDIT_LOG,
  instrumentOpenTelemetry,
  openTelemetryMeter,
} from './metrics/index.js';
export type { MetricsSnapshot, LockCounters, QueueCounters, LogCounters, HeldLock, AuditAction, AuditActor, AuditRecord, OtelMeterLike, OtelObservable } from './metrics/index.js';
