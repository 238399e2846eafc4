import Table from 'cli-table3';
import type { BenchReport } from '../results.js';
import { axisText, num, ratiosText, seriesText, throughputText } from './format.js';

/** The terminal report: results, targets, recommendations. */
export function renderTables(report: BenchReport): string {
  const results = new Table({
    head: ['backend', 'workload', 'subject', 'concurrency', 'ops/s median (min–max)', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'ours ÷ baseline'],
    style: { head: [], border: [] },
  });
  for (const c of report.cases) {
    const l = c.latency;
    const extra = [ratiosText(c), seriesText(c), c.facts ? Object.entries(c.facts).map(([k, v]) => `${k} ${v}`).join(', ') : '']
      .filter(Boolean)
      .join('\n');
    results.push([c.backend, c.workload, c.subject, axisText(c), throughputText(c), num(l?.p50), num(l?.p95), num(l?.p99), num(l?.max), extra]);
  }
  const targets = new Table({ head: ['backend', 'issue', 'target', 'rule', 'measured', 'verdict'], style: { head: [], border: [] } });
  for (const t of report.targets) {
    const unit = t.unit ?? (t.rule.includes(' ms') ? ' ms' : '×');
    targets.push([t.backend, `#${t.issue}`, t.name, t.rule, t.measured === undefined ? '—' : `${num(t.measured)}${unit}`, t.verdict]);
  }
  const m = report.machine;
  return [
    `agent-state bench (${report.profile}) — ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, temp dir ${m.tempDir} on ${m.tempDisk}`,
    ...report.backends.filter((b) => b.status === 'skipped').map((b) => `skipped ${b.name}: ${b.note ?? ''}`),
    results.toString(),
    'Targets (judged from this run only):',
    targets.toString(),
    'Which backend fits which workload (from the figures above):',
    ...report.recommendations.map((r) => `  - ${r}`),
  ].join('\n');
}
