/** The bench hook: the HTTP subject's operations against a real in-process server on SQLite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpSubject } from '../src/bench.js';

describe('bench HTTP subject', () => {
  it('reads, writes, cycles a lock and a queue through the server, then closes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-state-server-bench-'));
    try {
      const subject = await httpSubject.open({ backend: 'sqlite', root, namespace: 'bench-test' });
      try {
        expect(await subject.read('k/1')).toBeUndefined();
        await subject.write('k/1', { v: 1 });
        expect(await subject.read('k/1')).toEqual({ v: 1 });
        await subject.lockCycle('locks/a', { wait: false });
        await subject.lockCycle('locks/a', { wait: false });
        await subject.queueCycle('bench-0');
        await subject.queueCycle('bench-0');
      } finally {
        await subject.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('bench metrics cost case', () => {
  it('opens the library with metrics on and off on one store, and the ratio is the median of on ÷ off', async () => {
    const { metricsSubjects, metricsCostRatio, measureMetricsCost } = await import('../src/bench.js');
    const root = mkdtempSync(join(tmpdir(), 'agent-state-server-bench-'));
    try {
      for (const spec of metricsSubjects) {
        const subject = await spec.open({ backend: 'sqlite', root, namespace: 'bench-metrics' });
        try {
          await subject.write('k/1', { v: spec.id });
          expect(await subject.read('k/1')).toEqual({ v: spec.id });
          await subject.lockCycle('locks/a', { wait: false });
          await subject.queueCycle('bench-0');
        } finally {
          await subject.close();
        }
      }
      expect(metricsCostRatio([{ on: 95, off: 100 }, { on: 2, off: 1 }, { on: 90, off: 100 }])).toBe(0.95);
      // A smoke run only: the figure itself is the bench's to quote.
      const quick = await measureMetricsCost({ pairs: 2, ops: 200 });
      expect(quick.pairs).toHaveLength(2);
      expect(quick.ratio).toBeGreaterThan(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
