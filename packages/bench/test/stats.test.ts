import { describe, expect, it } from 'vitest';
import { LatencyRecorder, median, spread } from '../src/harness/stats.js';
import { measure, runFor } from '../src/harness/measure.js';

describe('statistics', () => {
  it('median of odd and even counts, unsorted input left untouched', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('spread gives median, min and max', () => {
    expect(spread([10, 30, 20, 40, 50])).toEqual({ median: 30, min: 10, max: 50 });
  });

  it('latency percentiles of 1..1000 ms match the nearest ranks within the histogram precision', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) recorder.recordMs(i);
    const s = recorder.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(500, -1);
    expect(Math.abs(s.p95 - 950) / 950).toBeLessThan(0.002);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.002);
    expect(Math.abs(s.max - 1000) / 1000).toBeLessThan(0.002);
    expect(s.mean).toBeCloseTo(500.5, -1);
  });

  it('sub-millisecond latencies keep microsecond resolution', () => {
    const recorder = new LatencyRecorder();
    for (let i = 0; i < 99; i++) recorder.recordMs(0.1);
    recorder.recordMs(2);
    const s = recorder.summary();
    expect(s.p50).toBeCloseTo(0.1, 3);
    expect(s.max).toBeCloseTo(2, 2);
  });

  it('an encoded histogram decodes to the same percentiles and merges with another', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) a.recordMs(i);
    for (let i = 101; i <= 200; i++) b.recordMs(i);
    const decoded = LatencyRecorder.decode(a.encode());
    const [before, after] = [a.summary(), decoded.summary()];
    expect([after.p50, after.p95, after.p99, after.count]).toEqual([before.p50, before.p95, before.p99, before.count]);
    // The decoded max is its bucket's highest equivalent value: the same within 0.1 %.
    expect(Math.abs(after.max - before.max) / before.max).toBeLessThan(0.001);
    decoded.add(b);
    expect(decoded.count).toBe(200);
    expect(decoded.summary().p50).toBeCloseTo(100, -1);
  });

  it('an empty recorder summarises to zeros', () => {
    expect(new LatencyRecorder().summary()).toEqual({ p50: 0, p95: 0, p99: 0, max: 0, mean: 0, count: 0 });
  });

  it('runFor counts operations, keeps the in-flight width and records reported latencies', async () => {
    let active = 0;
    let widest = 0;
    const recorder = new LatencyRecorder();
    const sample = await runFor(
      async () => {
        widest = Math.max(widest, ++active);
        await new Promise((r) => setTimeout(r, 1));
        active--;
        return 7;
      },
      30,
      4,
      recorder,
    );
    expect(widest).toBe(4);
    expect(sample.ops).toBe(recorder.count);
    expect(sample.ops).toBeGreaterThan(0);
    expect(recorder.summary().p50).toBeCloseTo(7, 1);
  });

  it('measure returns one sample per run', async () => {
    const m = await measure(async () => undefined, { warmupMs: 5, runMs: 10, runs: 3, inflight: 1 });
    expect(m.runs).toHaveLength(3);
    expect(m.throughput.min).toBeLessThanOrEqual(m.throughput.median);
    expect(m.throughput.median).toBeLessThanOrEqual(m.throughput.max);
  });
});
