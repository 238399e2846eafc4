import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../src/results.js';
import { attachRatios, judgeTargets, ratioOf, type TargetSpec } from '../src/targets.js';
import { recommend } from '../src/recommend.js';

const row = (backend: string, workload: string, subject: string, median: number, extra: Partial<CaseResult> = {}): CaseResult => ({
  backend,
  workload,
  subject,
  kind: subject === 'ours' ? 'ours' : subject === 'raw' ? 'raw' : 'peer',
  label: subject,
  axis: { inflight: 1, processes: 1 },
  status: 'ok',
  throughput: { median, min: median, max: median },
  latency: { p50: 1, p95: 2, p99: 3, max: 4, mean: 1, count: 10 },
  ...extra,
});

const specs: TargetSpec[] = [
  { backend: 'file', issue: 3, name: 'write', kind: 'ratio', workload: 'write', baseline: 'raw', min: 0.8 },
  { backend: 'file', issue: 3, name: 'read', kind: 'ratio', workload: 'ycsb-c', baseline: 'raw', min: 0.5 },
  { backend: 'file', issue: 3, name: 'lock', kind: 'ratio', workload: 'lock', baseline: 'proper-lockfile', min: 1.5 },
  { backend: 'file', issue: 13, name: 'delivery', kind: 'latency', workload: 'swarm-10', series: 'delivery', percentile: 'p99', maxMs: 5 },
  { backend: 'file', issue: 13, name: 'lock p99', kind: 'latency', workload: 'swarm-10', series: 'lock', percentile: 'p99', maxMs: 50 },
  { backend: 'file', issue: 13, name: 'delivery at 50', kind: 'latency', workload: 'swarm-50', series: 'delivery', percentile: 'p99', maxMs: 5 },
  { backend: 'redis', issue: 5, name: 'read', kind: 'ratio', workload: 'ycsb-c', baseline: 'raw', min: 0.9 },
];

describe('ratios and target flagging', () => {
  const cases: CaseResult[] = [
    row('file', 'write', 'ours', 80),
    row('file', 'write', 'raw', 100),
    row('file', 'ycsb-c', 'ours', 40),
    row('file', 'ycsb-c', 'raw', 100),
    row('file', 'lock', 'ours', 300),
    row('file', 'lock', 'proper-lockfile', 100, { status: 'failed', note: 'boom' }),
    row('file', 'swarm-10', 'ours', 5, {
      axis: { inflight: 1, processes: 10 },
      series: {
        delivery: { p50: 1, p95: 2, p99: 3, max: 9, mean: 1, count: 50 },
        lock: { p50: 0, p95: 0, p99: 0, max: 0, mean: 0, count: 0 },
      },
    }),
  ];

  it('ratio = ours median ÷ baseline median; missing or failed baselines give none', () => {
    expect(ratioOf(cases, 'file', 'write', 'raw')).toBeCloseTo(0.8);
    expect(ratioOf(cases, 'file', 'lock', 'proper-lockfile')).toBeUndefined();
    expect(ratioOf(cases, 'file', 'nothing', 'raw')).toBeUndefined();
  });

  it('a target exactly at its bound is met, below it not met, without figures not measured', () => {
    const verdicts = Object.fromEntries(judgeTargets(cases, ['file'], specs).map((t) => [t.name, t.verdict]));
    expect(verdicts['write']).toBe('met');
    expect(verdicts['read']).toBe('not met');
    expect(verdicts['lock']).toBe('not measured');
  });

  it('latency targets are judged on the swarm size they name, and an empty series is not a 0 ms pass', () => {
    const results = judgeTargets(cases, ['file'], specs);
    const delivery = results.find((t) => t.name === 'delivery')!;
    expect(delivery.verdict).toBe('met');
    expect(delivery.measured).toBe(3);
    expect(delivery.rule).toContain('swarm-10');
    expect(results.find((t) => t.name === 'lock p99')!.verdict).toBe('not measured');
    // A 10-agent swarm is not evidence for a 50-agent target.
    expect(results.find((t) => t.name === 'delivery at 50')!.verdict).toBe('not measured');
  });

  it('targets of backends that did not run are left out', () => {
    expect(judgeTargets(cases, ['file'], specs).some((t) => t.backend === 'redis')).toBe(false);
  });

  it('attachRatios puts every baseline ratio on the ours row only', () => {
    const copy = cases.map((c) => ({ ...c }));
    attachRatios(copy);
    expect(copy[0]!.ratios).toEqual({ raw: 0.8 });
    expect(copy[1]!.ratios).toBeUndefined();
    expect(copy[4]!.ratios).toBeUndefined();
  });

  it('recommendations name the measured winner, not a fixed one', () => {
    const a = recommend([row('file', 'ycsb-c', 'ours', 10), row('sqlite', 'ycsb-c', 'ours', 20)]);
    expect(a[0]).toMatch(/^read-heavy.*: sqlite .*2\.00× file/);
    const b = recommend([row('file', 'ycsb-c', 'ours', 30), row('sqlite', 'ycsb-c', 'ours', 20)]);
    expect(b[0]).toMatch(/: file /);
  });
});
