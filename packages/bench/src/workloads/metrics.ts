/**
 * What core's metrics cost (issue 17 item 6; second-wave notes: ops/s with metrics on ÷ off
 * ≥ 0.95, median of at least 5 alternated pairs in one run): point reads of one preloaded key,
 * the hottest in-process path, on ours (metrics on, the default) and on `metrics-off`, the same
 * client opened with `metrics: false`, in alternating timed rounds.
 */
import { runFor } from '../harness/measure.js';
import type { Sample, Workload } from './types.js';

const KEY = 'bench/metrics-cost';

export const METRICS_WORKLOADS: readonly Workload[] = [
  {
    id: 'metrics-cost',
    title: 'metrics on ÷ off',
    description: 'Point reads of one key in timed rounds, ours (metrics on) and the same client with metrics: false, alternating; at least 9 rounds each.',
    needs: ['read', 'write'],
    subjects: ['ours', 'metrics-off'],
    axis: () => ({ inflight: 1, processes: 1 }),
    // Nine alternated pairs: the ratio of two near-equal figures needs more rounds than one figure.
    rounds: (p) => Math.max(9, p.runs),
    setup: {
      key: 'metrics-cost',
      async run(subject) {
        await subject.write!(KEY, { hello: 'metrics' });
      },
    },
    async sample(subject, ctx): Promise<Sample> {
      const op = async (): Promise<void> => {
        await subject.read!(KEY);
      };
      if (ctx.round === 0 && ctx.profile.warmupMs > 0) await runFor(op, ctx.profile.warmupMs, 1);
      const run = await runFor(op, ctx.profile.runMs, 1);
      return { ops: run.ops, elapsedMs: run.elapsedMs };
    },
  },
];
