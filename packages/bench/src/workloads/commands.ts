/**
 * The shell's view (issue 15): one `agent-state get` as a new process against `node -e 0` and
 * `redis-cli GET` (alternated rounds, the median is the figure), and the seed's bash loops on
 * the shell functions: sequential increments in one loop, and P background subshells at once.
 */
import { CLI_KEY, cliEnv, cliProjectDir, requireAgentStateBin, run } from '../subjects/commands.js';
import type { StoreRef, Subject } from '../subjects/types.js';
import type { Sample, Workload } from './types.js';

/** Runs `body` in bash after sourcing the shell functions in the store's project dir; returns its stdout. */
async function bash(store: StoreRef, body: string, timeoutMs: number): Promise<string> {
  const bin = requireAgentStateBin();
  const script = [
    `source <("${process.execPath}" "${bin}" shell-functions) || exit 70`,
    'communication_backend_init >/dev/null || exit 71',
    body,
  ].join('\n');
  return run('bash', ['-c', script], { cwd: cliProjectDir(store), env: { ...cliEnv(), LC_ALL: 'C' }, timeoutMs });
}

/** `start end` from $EPOCHREALTIME (seconds with microseconds) → ms. */
function loopMs(stdout: string): number {
  const [start, end] = stdout.trim().split(/\s+/).slice(-2).map(Number);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error(`the shell loop printed no times: ${stdout.slice(-200)}`);
  return (end! - start!) * 1000;
}

async function counter(subject: Subject, key: string): Promise<number> {
  const entry = await subject.state!.read(key);
  return Number(entry?.value ?? 0);
}

/** `done N` lines of the loops. */
function doneCounts(stdout: string): number[] {
  return [...stdout.matchAll(/^done (\d+)$/gm)].map((m) => Number(m[1]));
}

/** The shell loops stop here (well past their targets, 2 s and 60 s), so a slow CLI cannot stall the run. */
const SHELL_LOOP_BUDGET_S = 30;
const SHELL_CONCURRENT_BUDGET_S = 120;

const NO_PROCESS_BACKENDS = ['file', 'sqlite', 'redis', 'postgres', 'firebase'] as const;

export const COMMAND_WORKLOADS: readonly Workload[] = [
  {
    id: 'cli',
    title: 'one CLI call',
    description: '`agent-state get KEY` as a new process, against `node -e 0` (and `redis-cli GET` on Redis); alternated rounds, median wall time.',
    needs: ['cliCall'],
    backends: NO_PROCESS_BACKENDS,
    axis: () => ({ inflight: 1, processes: 1 }),
    rounds: (p) => p.cliRounds,
    setup: {
      key: 'cli-key',
      async run(subject) {
        await subject.state?.write(CLI_KEY, { hello: 'bench' });
      },
    },
    async sample(subject): Promise<Sample> {
      const t0 = performance.now();
      await subject.cliCall!();
      const ms = performance.now() - t0;
      return { ops: 1, elapsedMs: ms, latencies: [ms] };
    },
  },
  {
    id: 'shell-loop',
    title: 'shell loop',
    description:
      'Sequential `communication_backend_increment` calls in one bash loop (1,000 in a full run; the loop alone is timed; ' +
      `stopped after ${SHELL_LOOP_BUDGET_S} s, which then is the figure and a lower bound); the count is checked.`,
    needs: ['state'],
    backends: ['file'],
    axis: () => ({ inflight: 1, processes: 1 }),
    rounds: () => 1,
    async sample(subject, ctx): Promise<Sample> {
      const calls = ctx.profile.shellCalls;
      const key = `bench/shell-loop-${ctx.round}`;
      const out = await bash(
        ctx.store,
        [
          'start=$EPOCHREALTIME; done=0',
          `stop=$(( \${start%.*} + ${SHELL_LOOP_BUDGET_S} ))`,
          `for ((i = 0; i < ${calls}; i++)); do`,
          `  communication_backend_increment ${key} >/dev/null || exit 72`,
          '  done=$((done + 1))',
          '  (( ${EPOCHREALTIME%.*} < stop )) || break',
          'done',
          'echo "done $done"',
          'echo "$start $EPOCHREALTIME"',
        ].join('\n'),
        SHELL_LOOP_BUDGET_S * 1000 + 60_000,
      );
      const ms = loopMs(out);
      const done = doneCounts(out).reduce((a, b) => a + b, 0);
      const count = await counter(subject, key);
      if (count !== done) throw new Error(`the shell loop made ${done} increments but the counter says ${count}`);
      return {
        ops: done,
        elapsedMs: ms,
        facts: { calls, count, loopMs: Math.round(ms), ...(done < calls && { stopped: `after ${SHELL_LOOP_BUDGET_S} s at ${done}/${calls}` }) },
      };
    },
  },
  {
    id: 'shell-concurrent',
    title: 'shell subshells',
    description:
      "The seed plan's test_concurrent_writes shape: P background subshells × N increments of one counter (10 × 100 in a full run; " +
      `stopped after ${SHELL_CONCURRENT_BUDGET_S} s); the exact count is checked.`,
    needs: ['state'],
    backends: ['file'],
    axis: (p) => ({ inflight: 1, processes: p.shellConcurrent.processes }),
    rounds: () => 1,
    async sample(subject, ctx): Promise<Sample> {
      const { processes, calls } = ctx.profile.shellConcurrent;
      const key = `bench/shell-concurrent-${ctx.round}`;
      const out = await bash(
        ctx.store,
        [
          'start=$EPOCHREALTIME; pids=()',
          `stop=$(( \${start%.*} + ${SHELL_CONCURRENT_BUDGET_S} ))`,
          `for ((p = 0; p < ${processes}; p++)); do`,
          '  ( done=0',
          `    for ((i = 0; i < ${calls}; i++)); do`,
          `      communication_backend_increment ${key} >/dev/null || exit 72`,
          '      done=$((done + 1))',
          '      (( ${EPOCHREALTIME%.*} < stop )) || break',
          '    done',
          '    echo "done $done" ) &',
          '  pids+=($!)',
          'done',
          'failed=0; for pid in "${pids[@]}"; do wait "$pid" || failed=1; done',
          '[ "$failed" = 0 ] || exit 73',
          'echo "$start $EPOCHREALTIME"',
        ].join('\n'),
        SHELL_CONCURRENT_BUDGET_S * 1000 + 120_000,
      );
      const ms = loopMs(out);
      const expected = processes * calls;
      const done = doneCounts(out).reduce((a, b) => a + b, 0);
      const count = await counter(subject, key);
      if (count !== done) throw new Error(`${processes} subshells made ${done} increments but the counter says ${count} (lost updates)`);
      return {
        ops: done,
        elapsedMs: ms,
        facts: { processes, calls, count, wallMs: Math.round(ms), ...(done < expected && { stopped: `after ${SHELL_CONCURRENT_BUDGET_S} s at ${done}/${expected}` }) },
      };
    },
  },
];
