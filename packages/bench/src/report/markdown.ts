import type { BenchReport } from '../results.js';
import { axisText, num, ratiosText, seriesText, throughputText } from './format.js';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', '<br>');

/** The Markdown report of a run. */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# agent-state bench — ${report.startedAt}`,
    '',
    `Profile \`${report.profile}\`. Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, Node ${m.node}, ${m.platform}; temp dir \`${m.tempDir}\` on ${m.tempDisk}.`,
    '',
    `Backends: ${report.backends.map((b) => `${b.name} (${b.status}${b.note ? `: ${b.note}` : ''})`).join(', ')}.`,
    '',
    'Ours ÷ each baseline per workload and backend, with the targets ([compare.svg](compare.svg)); our throughput per workload ([chart.svg](chart.svg)):',
    '',
    '![ours ÷ baseline, targets met and missed](compare.svg)',
    '',
    '![ours: ops/s per workload and backend](chart.svg)',
    '',
    '## Results',
    '',
    'Throughput is the median of the timed runs (min–max); latencies are over all runs. `ours ÷ baseline` divides our median by the baseline\'s, same workload, same run.',
    '',
    '| backend | workload | subject | concurrency | ops/s median (min–max) | p50 ms | p95 ms | p99 ms | max ms | ours ÷ baseline / extra |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...report.cases.map((c) => {
      const l = c.latency;
      const extra = [ratiosText(c), seriesText(c), c.facts ? Object.entries(c.facts).map(([k, v]) => `${k} ${v}`).join(', ') : ''].filter(Boolean).join('; ');
      return `| ${[c.backend, c.workload, c.subject, axisText(c), throughputText(c), num(l?.p50), num(l?.p95), num(l?.p99), num(l?.max), extra].map(cell).join(' | ')} |`;
    }),
    '',
    '## Targets',
    '',
    '| backend | issue | target | rule | measured | verdict |',
    '|---|---|---|---|---|---|',
    ...report.targets.map((t) => `| ${t.backend} | #${t.issue} | ${t.name} | ${cell(t.rule)} | ${t.measured === undefined ? '—' : `${num(t.measured)}${t.unit ?? ''}`} | **${t.verdict}** |`),
    '',
    '## Which backend fits which workload',
    '',
    ...report.recommendations.map((r) => `- ${r}`),
    '',
    '## Subjects',
    '',
    ...[...new Map(report.cases.map((c) => [`${c.backend}/${c.subject}`, c])).values()].map((c) => `- **${c.backend} / ${c.subject}** (${c.kind}): ${c.label}`),
    '',
  ];
  return lines.join('\n');
}
