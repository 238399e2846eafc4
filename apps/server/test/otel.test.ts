/** Core's optional OpenTelemetry bridge, read through a real OpenTelemetry metrics SDK. */
import { describe, expect, it } from 'vitest';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { instrumentOpenTelemetry, openState } from '@agent-state/core';

class PullReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

describe('OpenTelemetry bridge', () => {
  it("registers observable instruments on the app's global meter provider, read at collection time", async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    const state = await openState({ config: { backend: 'memory', namespace: `otel-${process.pid}` }, env: {} });
    try {
      expect(await instrumentOpenTelemetry(state)).toBe(true);
      await state.write('tasks/1', 1);
      await state.write('tasks/2', 2);
      await expect(state.write('tasks/1', 3, { ifVersion: 9 })).rejects.toMatchObject({ code: 'CONFLICT' });
      const lock = await state.lock('files/a', { ttlMs: 30_000 });
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
      const points = (name: string) => (all.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<number>[];
      expect(points('agent_state.op.calls').find((p) => p.attributes['op'] === 'write')?.value).toBe(3);
      expect(points('agent_state.op.errors')).toEqual([expect.objectContaining({ value: 1, attributes: { backend: 'memory', op: 'write', code: 'CONFLICT' } })]);
      expect(points('agent_state.locks.held')[0]?.value).toBe(1);
      expect(points('agent_state.lock.events').find((p) => p.attributes['event'] === 'acquired')?.value).toBe(1);
      await lock.release();
    } finally {
      await state.close();
      await provider.shutdown();
      metrics.disable();
    }
  });

  it('is off (false) for a client opened with metrics: false', async () => {
    const state = await openState({ config: { backend: 'memory', namespace: `otel-off-${process.pid}` }, env: {}, metrics: false });
    try {
      expect(await instrumentOpenTelemetry(state)).toBe(false);
    } finally {
      await state.close();
    }
  });
});
