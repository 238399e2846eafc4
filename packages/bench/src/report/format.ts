import type { CaseResult } from '../results.js';

/** 12,345 / 123 / 1.23 */
export function num(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** "12,345 (11,900–12,700)" */
export function throughputText(c: CaseResult): string {
  const t = c.throughput;
  if (!t) return c.status === 'ok' ? '—' : `${c.status}: ${c.note ?? ''}`.slice(0, 60);
  return `${num(t.median)} (${num(t.min)}–${num(t.max)})`;
}

/** "in-process 32" / "4 procs" */
export function axisText(c: CaseResult): string {
  const parts: string[] = [];
  if (c.axis.inflight > 1) parts.push(`${c.axis.inflight} in flight`);
  if (c.axis.processes > 1) parts.push(`${c.axis.processes} procs`);
  return parts.join(', ') || '1';
}

/** "raw 0.93× · keyv-sqlite 41×" */
export function ratiosText(c: CaseResult): string {
  if (!c.ratios) return '';
  return Object.entries(c.ratios)
    .map(([subject, r]) => `${subject} ${num(r)}×`)
    .join(' · ');
}

/** Extra figures of the swarm rows. */
export function seriesText(c: CaseResult): string {
  if (!c.series) return '';
  return Object.entries(c.series)
    .map(([name, s]) => `${name} p99 ${s.count > 0 ? num(s.p99) : '—'} ms`)
    .join(', ');
}
