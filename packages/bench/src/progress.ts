/**
 * What the person watching sees while the bench runs: on a terminal, the progress bar; anywhere
 * else (a CI log, `| tee`), one line per finished case, e.g.
 * `[12/96] sqlite ycsb-a ours … 4.3 s, ETA 3 min`.
 */
import cliProgress from 'cli-progress';
import type { CaseResult } from './results.js';

/** The hooks a run calls, and `stop` once it ends. */
export interface Progress {
  onCase(event: { index: number; total: number; name: string }): void;
  onCaseDone(event: { done: number; total: number; name: string; result: CaseResult }): void;
  stop(): void;
}

/** "4.3 s", "12 s", "2.5 min" */
export function durationText(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 90_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** One progress line: `[12/96] sqlite ycsb-a ours … 4.3 s, ETA 3 min` (plus failed/skipped). */
export function progressLine(done: number, total: number, name: string, caseMs: number, elapsedMs: number, result?: CaseResult): string {
  const width = String(total).length;
  const eta = done >= total ? 'done' : `ETA ${durationText(((elapsedMs / Math.max(1, done)) * (total - done)))}`;
  const status = result && result.status !== 'ok' ? ` ${result.status}${result.note ? `: ${result.note.slice(0, 80)}` : ''}` : '';
  return `[${String(done).padStart(width)}/${total}] ${name} … ${durationText(caseMs)}, ${eta}${status}`;
}

/** Line mode: writes one line per finished case to `stream`. `now` is injectable for tests. */
export function lineProgress(stream: NodeJS.WritableStream, now: () => number = () => performance.now()): Progress {
  let started: number | undefined;
  let last: number | undefined;
  return {
    onCase() {
      started ??= now();
      last ??= started;
    },
    onCaseDone({ done, total, name, result }) {
      const t = now();
      started ??= t;
      const caseMs = result.durationMs ?? t - (last ?? t);
      last = t;
      stream.write(`${progressLine(done, total, name, caseMs, t - started, result)}\n`);
    },
    stop() {},
  };
}

/** Bar mode: the cli-progress bar on a terminal, as before. */
export function barProgress(stream: NodeJS.WritableStream): Progress {
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {case}', stream, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onCase({ index, total, name }) {
      if (!started) {
        bar.start(total, 0, { case: name });
        started = true;
      }
      bar.update(index, { case: name });
    },
    onCaseDone() {},
    stop: () => bar.stop(),
  };
}

/** The bar on a TTY, lines otherwise. */
export function progressFor(stream: NodeJS.WritableStream & { isTTY?: boolean }): Progress {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream);
}
