import cliProgress from 'cli-progress';
import type { Progress } from './report.js';

/**
 * A progress bar on stderr for people: phase, entries done of total, rate and ETA. Returns the
 * callback the commands take and a `stop` for the end. Nothing is drawn when stderr is not a TTY.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: Progress) => void; stop: () => void } {
  if (!stream.isTTY) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{phase} [{bar}] {percentage}% | {value}/{total} entries | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let phase: string | undefined;
  let phaseStart = Date.now();
  return {
    onProgress(p) {
      if (p.total === undefined) return; // the scan has no total yet
      if (p.phase !== phase) {
        if (phase !== undefined) bar.stop();
        phase = p.phase;
        phaseStart = Date.now();
        bar.start(p.total, p.done, { phase: p.phase.padEnd(6), rate: 0 });
        return;
      }
      const seconds = (Date.now() - phaseStart) / 1000;
      bar.update(Math.min(p.done, p.total), { rate: seconds > 0 ? Math.round(p.done / seconds) : 0 });
    },
    stop() {
      if (phase !== undefined) bar.stop();
    },
  };
}
