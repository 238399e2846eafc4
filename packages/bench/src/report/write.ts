import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchReport } from '../results.js';
import { renderMarkdown } from './markdown.js';
import { renderCompareSvg } from './compare-svg.js';
import { renderSvg } from './svg.js';
import { renderTables } from './table.js';

/** `./results/<timestamp>/` under `cwd`. */
export function defaultOutDir(cwd: string, startedAt: string): string {
  return resolve(cwd, 'results', startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z'));
}

/** Writes results.json, report.md, chart.svg, compare.svg and table.txt into `dir`; returns the table text. */
export function writeReport(report: BenchReport, dir: string): { table: string; files: string[] } {
  mkdirSync(dir, { recursive: true });
  const table = renderTables(report);
  const files = {
    'results.json': `${JSON.stringify(report, null, 2)}\n`,
    'report.md': renderMarkdown(report),
    'chart.svg': renderSvg(report),
    'compare.svg': renderCompareSvg(report),
    'table.txt': `${table}\n`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { table, files: Object.keys(files).map((name) => join(dir, name)) };
}
