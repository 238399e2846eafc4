import type { BenchReport } from '../results.js';
import { TARGETS, type TargetSpec } from '../targets.js';
import { num } from './format.js';

const esc = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Colours: a bar that meets its target, one that misses it, one with no target. */
export const COMPARE_COLORS = { met: '#2e7d32', missed: '#c62828', none: '#7f8fa6', target: '#222222', one: '#555555' } as const;

/** One bar of the comparison chart. */
export interface CompareBar {
  backend: string;
  workload: string;
  baseline: string;
  ratio: number;
  /** The ratio targets on this (backend, workload, baseline), lowest first. */
  targets: number[];
  verdict: 'met' | 'missed' | 'none';
}

/** The bars of a run: every ours ÷ baseline ratio, with its targets. */
export function compareBars(report: BenchReport, specs: readonly TargetSpec[] = TARGETS): CompareBar[] {
  const bars: CompareBar[] = [];
  for (const c of report.cases) {
    if (c.subject !== 'ours' || c.status !== 'ok' || !c.ratios) continue;
    for (const [baseline, ratio] of Object.entries(c.ratios)) {
      if (!(ratio > 0) || !Number.isFinite(ratio)) continue;
      const targets = specs
        .flatMap((s) => {
          if (s.backend !== c.backend || s.workload !== c.workload) return [];
          if (s.kind === 'ratio' && s.baseline === baseline) return [s.min];
          // "ours takes ≤ k× the baseline's time" (the CLI against node -e 0) is throughput ≥ 1/k.
          if (s.kind === 'latency-ratio' && s.subject === 'ours' && s.baseWorkload === c.workload && s.baseSubject === baseline) return [1 / s.max];
          return [];
        })
        .sort((a, b) => a - b);
      const verdict = targets.length === 0 ? 'none' : targets.every((t) => ratio >= t) ? 'met' : 'missed';
      bars.push({ backend: c.backend, workload: c.workload, baseline, ratio, targets, verdict });
    }
  }
  return bars;
}

/**
 * ours ÷ baseline per workload and backend: one bar per baseline, drawn from 1.0 on a log scale
 * (a bar to the right is faster than the baseline), a line at 1.0 and a tick at each target;
 * green where the target is met, red where it is missed, grey where no target applies.
 */
export function renderCompareSvg(report: BenchReport, specs: readonly TargetSpec[] = TARGETS): string {
  const bars = compareBars(report, specs);
  const backends = [...new Set(bars.map((b) => b.backend))];
  const rowH = 16;
  const headerH = 22;
  const left = 230;
  const width = 900;
  const right = 70;
  const top = 74;
  const plotW = width - left - right;
  const values = bars.flatMap((b) => [b.ratio, ...b.targets]);
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.5, ...values) / 1.05));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(2, ...values) * 1.05));
  const x = (v: number): number => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const height = top + backends.length * headerH + bars.length * rowH + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14">agent-state ÷ baseline, same run (median throughput, log scale) — ${esc(report.profile)} run ${esc(report.startedAt)}</text>`,
    `<text x="10" y="34" fill="#444">Right of 1.0: faster than the baseline. Ticks: the issues' targets.</text>`,
  ];
  const legend: [string, string][] = [
    [COMPARE_COLORS.met, 'target met'],
    [COMPARE_COLORS.missed, 'target not met'],
    [COMPARE_COLORS.none, 'no target'],
  ];
  legend.forEach(([color, label], i) => {
    parts.push(`<rect x="${10 + i * 120}" y="42" width="10" height="10" fill="${color}"/><text x="${24 + i * 120}" y="51">${label}</text>`);
  });
  parts.push(`<line x1="${10 + 3 * 120}" y1="40" x2="${10 + 3 * 120}" y2="54" stroke="${COMPARE_COLORS.target}" stroke-width="2"/><text x="${16 + 3 * 120}" y="51">target</text>`);
  const plotBottom = height - 30;
  // Decade grid and axis labels.
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi * 1.0001) break;
      const major = m === 1;
      parts.push(`<line x1="${x(v).toFixed(1)}" y1="${top - 6}" x2="${x(v).toFixed(1)}" y2="${plotBottom}" stroke="${major ? '#d0d0d0' : '#eeeeee'}"/>`);
      parts.push(`<text x="${x(v).toFixed(1)}" y="${plotBottom + 14}" text-anchor="middle" fill="#444">${num(v)}×</text>`);
    }
  }
  let y = top;
  for (const backend of backends) {
    parts.push(`<text x="10" y="${y + 15}" font-size="12" font-weight="bold">${esc(backend)}</text>`);
    y += headerH;
    for (const bar of bars.filter((b) => b.backend === backend)) {
      const x0 = x(1);
      const x1 = x(bar.ratio);
      parts.push(`<text x="${left - 6}" y="${y + rowH - 4}" text-anchor="end">${esc(`${bar.workload} ÷ ${bar.baseline}`)}</text>`);
      parts.push(
        `<rect class="bar ${bar.verdict}" x="${Math.min(x0, x1).toFixed(1)}" y="${y + 2}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${rowH - 4}" fill="${COMPARE_COLORS[bar.verdict]}"><title>${esc(`${backend} ${bar.workload}: ours ÷ ${bar.baseline} = ${num(bar.ratio)}×${bar.targets.length ? ` (target ≥ ${bar.targets.join(', ')})` : ''}`)}</title></rect>`,
      );
      for (const t of bar.targets) {
        parts.push(`<line class="target" x1="${x(t).toFixed(1)}" y1="${y}" x2="${x(t).toFixed(1)}" y2="${y + rowH}" stroke="${COMPARE_COLORS.target}" stroke-width="2"/>`);
      }
      // The figure goes right of the bar's outer end, or right of 1.0 for a bar that points left
      // (so it never runs into the row labels).
      const labelX = bar.ratio >= 1 ? x1 + 4 : x0 + 4;
      parts.push(`<text x="${labelX.toFixed(1)}" y="${y + rowH - 4}">${num(bar.ratio)}×</text>`);
      y += rowH;
    }
  }
  // The 1.0 line on top of the bars.
  parts.push(`<line class="one" x1="${x(1).toFixed(1)}" y1="${top - 10}" x2="${x(1).toFixed(1)}" y2="${plotBottom}" stroke="${COMPARE_COLORS.one}" stroke-width="1.5" stroke-dasharray="4 2"/>`);
  if (bars.length === 0) parts.push(`<text x="${left}" y="${top + 20}">no ratios in this run (no baseline ran beside ours)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
