/**
 * The speed targets of the backend issues, as data, and how each is judged from a run's
 * figures. Nothing is assumed: a target whose figures are missing is "not measured".
 */
import type { CaseResult, TargetResult } from './results.js';

/** A target: ours ÷ a baseline on a workload ≥ `min`, or an absolute latency bound. */
export type TargetSpec =
  | { backend: string; issue: number; name: string; kind: 'ratio'; workload: string; baseline: string; min: number }
  | { backend: string; issue: number; name: string; kind: 'latency'; workload: string; series: string; percentile: 'p99'; maxMs: number };

const ratio = (backend: string, issue: number, name: string, workload: string, baseline: string, min: number): TargetSpec => ({
  backend,
  issue,
  name,
  kind: 'ratio',
  workload,
  baseline,
  min,
});

/** Targets from issues 3–6 (ratios) and 7 (the seed's swarm p99s). */
export const TARGETS: readonly TargetSpec[] = [
  ratio('file', 3, 'durable write', 'write', 'raw', 0.8),
  ratio('file', 3, 'read', 'ycsb-c', 'raw', 0.5),
  ratio('file', 3, 'lock+release', 'lock', 'proper-lockfile', 1.5),
  ratio('sqlite', 4, 'write', 'write', 'raw', 0.8),
  ratio('sqlite', 4, 'read', 'ycsb-c', 'raw', 0.5),
  ratio('sqlite', 4, 'read-modify-write', 'rmw', 'raw', 0.8),
  ratio('sqlite', 4, 'set+get vs Keyv', 'seed', 'keyv-sqlite', 10),
  ratio('redis', 5, 'read', 'ycsb-c', 'raw', 0.9),
  ratio('redis', 5, 'write (vs Lua CAS)', 'write', 'raw', 0.9),
  ratio('redis', 5, 'lock+release', 'lock', 'raw', 1.0),
  ratio('redis', 5, 'lock+release vs redlock', 'lock', 'redlock', 1.0),
  ratio('redis', 5, 'write+read, many in flight', 'seed-32', 'raw-set', 0.85),
  ratio('redis', 5, 'set+get vs Keyv', 'seed', 'keyv-redis', 1.0),
  ratio('firebase', 6, 'read', 'ycsb-c', 'raw', 0.8),
  ratio('firebase', 6, 'write', 'write', 'raw', 0.8),
  ...['file', 'sqlite', 'redis', 'firebase'].flatMap((backend): TargetSpec[] => [
    { backend, issue: 7, name: 'swarm task assignment p99', kind: 'latency', workload: 'swarm-50', series: 'assignment', percentile: 'p99', maxMs: 10 },
    { backend, issue: 7, name: 'swarm lock acquisition p99', kind: 'latency', workload: 'swarm-50', series: 'lock', percentile: 'p99', maxMs: 50 },
    { backend, issue: 7, name: 'swarm message delivery p99', kind: 'latency', workload: 'swarm-50', series: 'delivery', percentile: 'p99', maxMs: 5 },
  ]),
];

/** ours ÷ baseline median throughput, when both ran. */
export function ratioOf(cases: readonly CaseResult[], backend: string, workload: string, baseline: string): number | undefined {
  const find = (subject: string) => cases.find((c) => c.backend === backend && c.workload === workload && c.subject === subject && c.status === 'ok');
  const ours = find('ours')?.throughput?.median;
  const base = find(baseline)?.throughput?.median;
  if (ours === undefined || base === undefined || !(base > 0)) return undefined;
  return ours / base;
}

/** Fills `ratios` on every `ours` row: against each baseline that ran the same workload. */
export function attachRatios(cases: CaseResult[]): void {
  for (const c of cases) {
    if (c.subject !== 'ours' || c.status !== 'ok') continue;
    const ratios: Record<string, number> = {};
    for (const b of cases) {
      if (b.backend !== c.backend || b.workload !== c.workload || b.subject === 'ours') continue;
      const r = ratioOf(cases, c.backend, c.workload, b.subject);
      if (r !== undefined) ratios[b.subject] = r;
    }
    if (Object.keys(ratios).length > 0) c.ratios = ratios;
  }
}

/**
 * Judges every target of the backends that ran. The swarm targets use the largest swarm that
 * ran (swarm-50 in a full run, the small one in quick runs, marked in the rule).
 */
export function judgeTargets(cases: readonly CaseResult[], backends: readonly string[], specs: readonly TargetSpec[] = TARGETS): TargetResult[] {
  const results: TargetResult[] = [];
  for (const spec of specs) {
    if (!backends.includes(spec.backend)) continue;
    if (spec.kind === 'ratio') {
      const measured = ratioOf(cases, spec.backend, spec.workload, spec.baseline);
      const rule = `${spec.workload}: ours/${spec.baseline} ≥ ${spec.min}`;
      results.push({
        backend: spec.backend,
        issue: spec.issue,
        name: spec.name,
        rule,
        ...(measured !== undefined && { measured }),
        verdict: measured === undefined ? 'not measured' : measured >= spec.min ? 'met' : 'not met',
      });
    } else {
      const swarms = cases
        .filter((c) => c.backend === spec.backend && c.workload.startsWith('swarm-') && c.status === 'ok' && c.subject === 'ours')
        .sort((a, b) => b.axis.processes - a.axis.processes);
      const swarm = swarms[0];
      const series = swarm?.series?.[spec.series];
      // An empty series (e.g. no message arrived) is not a measurement of 0 ms.
      const measured = series && series.count > 0 ? series[spec.percentile] : undefined;
      const workload = swarm?.workload ?? spec.workload;
      results.push({
        backend: spec.backend,
        issue: spec.issue,
        name: spec.name,
        rule: `${workload}: ${spec.series} ${spec.percentile} < ${spec.maxMs} ms`,
        ...(measured !== undefined && { measured }),
        verdict: measured === undefined ? 'not measured' : measured < spec.maxMs ? 'met' : 'not met',
      });
    }
  }
  return results;
}
