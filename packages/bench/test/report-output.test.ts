import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineProgress, progressFor, progressLine } from '../src/progress.js';
import { compareBars, COMPARE_COLORS, renderCompareSvg } from '../src/report/compare-svg.js';
import { writeReport } from '../src/report/write.js';
import type { BenchReport, CaseResult } from '../src/results.js';
import { attachRatios, judgeTargets } from '../src/targets.js';

/** A non-TTY stream that keeps what was written. */
function capture(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const row = (backend: string, workload: string, subject: string, median: number): CaseResult => ({
  backend,
  workload,
  subject,
  kind: subject === 'ours' ? 'ours' : 'raw',
  label: subject,
  axis: { inflight: 1, processes: 1 },
  status: 'ok',
  throughput: { median, min: median, max: median },
  latency: { p50: 1, p95: 2, p99: 3, max: 4, mean: 1, count: 10 },
  durationMs: 4_300,
});

function syntheticReport(): BenchReport {
  const cases = [
    row('file', 'write', 'ours', 950), // 0.95× raw: target ≥ 0.9 met
    row('file', 'write', 'raw', 1_000),
    row('file', 'rmw', 'ours', 500), // 0.5× raw: target ≥ 0.8 missed
    row('file', 'rmw', 'raw', 1_000),
    row('sqlite', 'seed', 'ours', 40_000), // 40× Keyv: target ≥ 10 met
    row('sqlite', 'seed', 'keyv-sqlite', 1_000),
    row('sqlite', 'transfer', 'ours', 2_000),
    row('sqlite', 'transfer', 'raw', 1_000), // no target on this pair
  ];
  attachRatios(cases);
  return {
    startedAt: '2026-12-01T08:00:00.000Z',
    finishedAt: '2026-12-01T08:05:00.000Z',
    profile: 'test',
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 4, node: 'v20', platform: 'linux', tempDir: '/tmp', tempDisk: 'ext4' },
    backends: [
      { name: 'file', status: 'ran' },
      { name: 'sqlite', status: 'ran' },
    ],
    cases,
    targets: judgeTargets(cases, ['file', 'sqlite']),
    recommendations: [],
  };
}

/** Well-formed XML: every tag closed in order, attributes quoted, every & an entity. */
function assertWellFormed(xml: string): void {
  expect(xml.startsWith('<svg')).toBe(true);
  expect(xml.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    expect(between, `stray markup before ${m[0]}`).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `</${name}> closes the open tag`).toBe(name);
    else if (!selfClosing) stack.push(name!);
  }
  expect(xml.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(xml).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
}

describe('progress on a non-TTY stream', () => {
  it('writes one line per finished case: [done/total] backend workload subject … duration, ETA', () => {
    const { stream, text } = capture();
    let t = 0;
    const progress = lineProgress(stream, () => t);
    progress.onCase({ index: 0, total: 96, name: 'sqlite ycsb-a ours' });
    t = 4_300;
    progress.onCaseDone({ done: 12, total: 96, name: 'sqlite ycsb-a ours', result: row('sqlite', 'ycsb-a', 'ours', 1) });
    t = 5_000;
    progress.onCaseDone({ done: 96, total: 96, name: 'file write raw', result: { ...row('file', 'write', 'raw', 1), status: 'failed', note: 'boom', durationMs: 700 } });
    progress.stop();
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    // 4.3 s for 12 cases → 84 to go at ~0.36 s each ≈ 30 s.
    expect(lines[0]).toBe('[12/96] sqlite ycsb-a ours … 4.3 s, ETA 30 s');
    expect(lines[1]).toBe('[96/96] file write raw … 0.7 s, done failed: boom');
  });

  it('progressFor picks lines for a non-TTY stream and the bar for a TTY', () => {
    const { stream, text } = capture();
    const progress = progressFor(stream);
    progress.onCase({ index: 0, total: 1, name: 'file write ours' });
    progress.onCaseDone({ done: 1, total: 1, name: 'file write ours', result: row('file', 'write', 'ours', 1) });
    progress.stop();
    expect(text()).toMatch(/^\[1\/1\] file write ours … 4\.3 s, done\n$/);
    const tty = capture();
    tty.stream.isTTY = true;
    const bar = progressFor(tty.stream);
    bar.onCaseDone({ done: 1, total: 1, name: 'x', result: row('file', 'write', 'ours', 1) });
    bar.stop();
    expect(tty.text()).not.toContain('[1/1]');
  });

  it('ETA reads in minutes once it is long', () => {
    expect(progressLine(1, 100, 'a b c', 3_000, 3_000)).toBe('[  1/100] a b c … 3.0 s, ETA 5 min');
  });
});

describe('the compare chart', () => {
  it('one bar per baseline ratio, coloured by its target, and a target tick per target', () => {
    const report = syntheticReport();
    const bars = compareBars(report);
    const byKey = Object.fromEntries(bars.map((b) => [`${b.backend}/${b.workload}/${b.baseline}`, b]));
    expect(Object.keys(byKey).sort()).toEqual(['file/rmw/raw', 'file/write/raw', 'sqlite/seed/keyv-sqlite', 'sqlite/transfer/raw']);
    expect(byKey['file/write/raw']).toMatchObject({ verdict: 'met', targets: [0.9] });
    expect(byKey['file/rmw/raw']).toMatchObject({ verdict: 'missed', targets: [0.8] });
    expect(byKey['sqlite/seed/keyv-sqlite']).toMatchObject({ verdict: 'met', targets: [10] });
    expect(byKey['sqlite/transfer/raw']).toMatchObject({ verdict: 'none', targets: [] });

    const svg = renderCompareSvg(report);
    assertWellFormed(svg);
    expect(svg.match(/<rect class="bar /g)).toHaveLength(4);
    expect(svg.match(/class="bar met"[^>]*fill="([^"]+)"/)![1]).toBe(COMPARE_COLORS.met);
    expect(svg.match(/class="bar missed"[^>]*fill="([^"]+)"/)![1]).toBe(COMPARE_COLORS.missed);
    expect(svg.match(/<line class="target"/g)).toHaveLength(3);
    expect(svg.match(/<line class="one"/g)).toHaveLength(1);
    expect(svg).toContain('rmw ÷ raw');
  });

  it('is written beside the throughput chart and linked from report.md', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
    try {
      const { files } = writeReport(syntheticReport(), dir);
      expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['chart.svg', 'compare.svg', 'report.md', 'results.json', 'table.txt']);
      assertWellFormed(readFileSync(join(dir, 'compare.svg'), 'utf8'));
      assertWellFormed(readFileSync(join(dir, 'chart.svg'), 'utf8'));
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      expect(md).toContain('](compare.svg)');
      expect(md).toContain('](chart.svg)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run without baselines still gives a well-formed chart that says so', () => {
    const report = { ...syntheticReport(), cases: [row('file', 'write', 'ours', 1)] };
    const svg = renderCompareSvg(report);
    assertWellFormed(svg);
    expect(svg).toContain('no ratios in this run');
  });
});
