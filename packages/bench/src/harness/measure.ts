import { performance } from 'node:perf_hooks';
import { LatencyRecorder, spread, type LatencySummary, type Spread } from './stats.js';

/**
 * One operation of a workload. `worker` is the index of the in-process loop running it. It may
 * return a latency in ms to record instead of its own wall time (e.g. pub/sub records
 * publish → handler, not the whole round trip).
 */
export type Operation = (worker: number) => Promise<number | void>;

/** What one timed run produced. */
export interface RunSample {
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
}

/** The outcome of a measured case: throughput per run and latency over all runs. */
export interface Measurement {
  runs: RunSample[];
  /** Operations per second over the runs: median, min, max. */
  throughput: Spread;
  latency: LatencySummary;
}

/** How long and how wide to measure. */
export interface MeasureOptions {
  /** Untimed time before the runs (JIT, caches, connections). */
  warmupMs: number;
  /** Length of each timed run. */
  runMs: number;
  /** How many timed runs. */
  runs: number;
  /** Operations kept in flight at once in this process (the in-process concurrency axis). */
  inflight: number;
  /** Hook between runs, e.g. to update a progress bar. */
  onRun?: (run: number) => void;
}

/**
 * Runs `op` in `inflight` loops for `ms`, timing every call. A loop starts no new operation
 * after the deadline, so a run ends within one operation of `ms`.
 */
export async function runFor(op: Operation, ms: number, inflight: number, recorder?: LatencyRecorder): Promise<RunSample> {
  const started = performance.now();
  const deadline = started + ms;
  let ops = 0;
  const loop = async (worker: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const reported = await op(worker);
      const latency = typeof reported === 'number' ? reported : performance.now() - t0;
      recorder?.recordMs(latency);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, i) => loop(i)));
  const elapsedMs = performance.now() - started;
  return { ops, elapsedMs, opsPerSec: elapsedMs > 0 ? (ops * 1000) / elapsedMs : 0 };
}

/** Warm-up, then `runs` timed runs; throughput as median (min–max), latency over every run. */
export async function measure(op: Operation, options: MeasureOptions): Promise<Measurement> {
  if (options.warmupMs > 0) await runFor(op, options.warmupMs, options.inflight);
  const recorder = new LatencyRecorder();
  const runs: RunSample[] = [];
  for (let i = 0; i < options.runs; i++) {
    runs.push(await runFor(op, options.runMs, options.inflight, recorder));
    options.onRun?.(i + 1);
  }
  return summarize(runs, recorder);
}

/** Builds a measurement from samples and the recorder that timed them. */
export function summarize(runs: RunSample[], recorder: LatencyRecorder): Measurement {
  return { runs, throughput: spread(runs.map((r) => r.opsPerSec)), latency: recorder.summary() };
}
