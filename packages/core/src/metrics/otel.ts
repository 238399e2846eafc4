import type { StateClient } from '../client.js';
import { LATENCY_BUCKETS_MS, metricsOf, type StateMetrics } from './metrics.js';

/**
 * Optional OpenTelemetry export (issue 17 item 1): when the application already runs an
 * OpenTelemetry SDK, `instrumentOpenTelemetry(state, meter)` registers observable instruments on
 * its meter that read {@link StateMetrics} at collection time (nothing is recorded per call).
 * Core depends on nothing: the meter is typed structurally, and {@link openTelemetryMeter} finds
 * `@opentelemetry/api` only if the app installed it. No exporter is bundled.
 */

/** The part of an `@opentelemetry/api` Meter this uses. */
export interface OtelMeterLike {
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): OtelObservable;
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): OtelObservable;
  addBatchObservableCallback?(callback: (result: { observe(o: OtelObservable, value: number, attributes?: Record<string, string>): void }) => void, observables: OtelObservable[]): void;
}
export interface OtelObservable {
  addCallback(callback: (result: { observe(value: number, attributes?: Record<string, string>): void }) => void): void;
}

/** The meter `agent-state` from the app's global MeterProvider, or undefined without `@opentelemetry/api`. */
export async function openTelemetryMeter(): Promise<OtelMeterLike | undefined> {
  const name = '@opentelemetry/api';
  try {
    const api = (await import(name)) as { metrics?: { getMeter(name: string, version?: string): OtelMeterLike } };
    return api.metrics?.getMeter('agent-state', '0.1.0');
  } catch {
    return undefined;
  }
}

/**
 * Registers agent-state's metrics on `meter` (default: {@link openTelemetryMeter}). Returns false
 * when there is nothing to export to (no metrics on this client, or no OpenTelemetry API).
 */
export async function instrumentOpenTelemetry(state: StateClient, meter?: OtelMeterLike): Promise<boolean> {
  const m = metricsOf(state);
  const target = meter ?? (await openTelemetryMeter());
  if (!m || !target) return false;
  register(m, target);
  return true;
}

function register(m: StateMetrics, meter: OtelMeterLike): void {
  const backend = m.backend;
  meter.createObservableCounter('agent_state.op.calls', { description: 'Backend calls per operation' }).addCallback((r) => {
    for (const s of m.ops.values()) r.observe(s.calls, { backend, op: s.op });
  });
  meter.createObservableCounter('agent_state.op.errors', { description: 'Failed backend calls per operation and code' }).addCallback((r) => {
    for (const s of m.ops.values()) for (const [code, n] of s.errorsByCode) r.observe(n, { backend, op: s.op, code });
  });
  meter.createObservableCounter('agent_state.op.duration', { description: 'Total time in backend calls per operation', unit: 'ms' }).addCallback((r) => {
    for (const s of m.ops.values()) r.observe(s.sumMs, { backend, op: s.op });
  });
  meter.createObservableGauge('agent_state.op.p99', { description: `p99 latency per operation (upper bound of a bucket of ${LATENCY_BUCKETS_MS.join(', ')} ms)`, unit: 'ms' }).addCallback((r) => {
    for (const s of m.ops.values()) {
      const q = s.quantile(0.99);
      if (q !== null && Number.isFinite(q)) r.observe(q, { backend, op: s.op });
    }
  });
  meter.createObservableCounter('agent_state.lock.events', { description: 'Lock events per resource prefix' }).addCallback((r) => {
    for (const [prefix, c] of m.locks) for (const [event, n] of Object.entries(c)) r.observe(n, { backend, prefix, event });
  });
  meter.createObservableCounter('agent_state.queue.events', { description: 'Queue events per queue' }).addCallback((r) => {
    for (const [queue, c] of m.queues) for (const [event, n] of Object.entries(c)) r.observe(n, { backend, queue, event });
  });
  meter.createObservableCounter('agent_state.log.records', { description: 'Log records per family (mail: messages sent and delivered)' }).addCallback((r) => {
    for (const [family, c] of m.logs) for (const [event, n] of Object.entries(c)) r.observe(n, { backend, family, event });
  });
  meter.createObservableGauge('agent_state.locks.held', { description: 'Leases held through this client' }).addCallback((r) => {
    r.observe(m.held.size, { backend });
  });
}
