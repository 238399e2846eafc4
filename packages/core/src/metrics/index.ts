export {
  StateMetrics,
  OpStats,
  LATENCY_BUCKETS_MS,
  metricsOf,
  meteredBackend,
  attachMetrics,
  prefixOf,
} from './metrics.js';
export type { MetricsSnapshot, LockCounters, QueueCounters, LogCounters, HeldLock } from './metrics.js';
export { audit, auditActor, auditMigration, auditRepair, auditLock, AUDIT_LOG } from './audit.js';
export type { AuditAction, AuditActor, AuditRecord } from './audit.js';
export { instrumentOpenTelemetry, openTelemetryMeter } from './otel.js';
export type { OtelMeterLike, OtelObservable } from './otel.js';
