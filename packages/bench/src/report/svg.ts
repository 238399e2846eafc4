import type { BenchReport } from '../results.js';
import { num } from './format.js';

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];
const esc = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * A horizontal bar chart of our median throughput per workload, one bar per backend, on a log
 * scale (backends differ by orders of magnitude), with the value printed on each bar.
 */
export function renderSvg(report: BenchReport): string {
  const ours = report.cases.filter((c) => c.subject === 'ours' && c.status === 'ok' && (c.throughput?.median ?? 0) > 0);
  const workloads = [...new Set(ours.map((c) => c.workload))];
  const backends = [...new Set(ours.map((c) => c.backend))];
  const bar = 14;
  const groupHeight = backends.length * bar + 10;
  const left = 150;
  const width = 760;
  const plot = width - left - 90;
  const top = 40;
  const height = top + workloads.length * groupHeight + 30;
  const max = Math.max(10, ...ours.map((c) => c.throughput!.median));
  const scale = (v: number): number => (Math.log10(Math.max(1, v)) / Math.log10(max)) * plot;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="14">agent-state: ops/s per workload (median, log scale) — ${esc(report.profile)} run ${esc(report.startedAt)}</text>`,
    ...backends.map((b, i) => `<rect x="${10 + i * 90}" y="26" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${24 + i * 90}" y="35">${esc(b)}</text>`),
  ];
  workloads.forEach((w, wi) => {
    const y0 = top + wi * groupHeight;
    parts.push(`<text x="${left - 6}" y="${y0 + groupHeight / 2}" text-anchor="end">${esc(w)}</text>`);
    backends.forEach((b, bi) => {
      const c = ours.find((x) => x.workload === w && x.backend === b);
      if (!c) return;
      const v = c.throughput!.median;
      const y = y0 + bi * bar;
      parts.push(`<rect x="${left}" y="${y}" width="${scale(v).toFixed(1)}" height="${bar - 2}" fill="${COLORS[bi % COLORS.length]}"/>`);
      parts.push(`<text x="${left + scale(v) + 4}" y="${y + bar - 4}">${esc(num(v))}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
