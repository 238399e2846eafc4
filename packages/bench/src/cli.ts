/** The `agent-state-bench` command: options in, a run, the table (or JSON) out, files written. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { PROFILES } from './profile.js';
import { loadExtras } from './extras.js';
import { progressFor } from './progress.js';
import { allWorkloads } from './workloads/catalog.js';
import { writeReport, defaultOutDir } from './report/write.js';
import { runBench } from './run.js';
import { BENCH_BACKENDS, type BenchBackend } from './subjects/types.js';

function parseBackends(text: string): BenchBackend[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(BENCH_BACKENDS as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`unknown backend "${name}" (expected ${BENCH_BACKENDS.join(', ')})`);
    }
  }
  return names as BenchBackend[];
}

function parseCounts(text: string): number[] {
  const counts = text.split(',').map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) {
    throw new InvalidArgumentError(`expected a comma list of agent counts from 1 to 500, got "${text}"`);
  }
  return counts;
}

/** Builds the command; `main` runs it. Exported so tests can drive it with argv. */
export function createProgram(): Command {
  return new Command('agent-state-bench')
    .description('Benchmark agent-state backends against their raw drivers and peer libraries, in one run.')
    .option('--backends <list>', 'comma list of file,sqlite,redis,postgres,firebase (default: file,sqlite, + redis and postgres when they answer)', parseBackends)
    .option('--quick', 'a smoke run: short runs, small sizes (a minute or two on file+sqlite+redis)', false)
    .option('--workloads <list>', 'only these workload ids (comma list)', (t: string) => t.split(',').map((s) => s.trim()))
    .option('--swarm <counts>', 'agent process counts of the swarm cases (default 10,50; quick 3), e.g. 10,50,100', parseCounts)
    .option('--extra <modules>', 'comma list of modules exporting more workloads and/or subjects (e.g. the server\'s HTTP cases)', (t: string) =>
      t.split(',').map((s) => s.trim()).filter(Boolean),
    )
    .option('--out <dir>', 'results folder (default ./results/<timestamp>/)')
    .option('--json', 'print the JSON report on stdout instead of the table', false)
    .action(async (opts: { backends?: BenchBackend[]; quick: boolean; workloads?: string[]; swarm?: number[]; extra?: string[]; out?: string; json: boolean }) => {
      const base = opts.quick ? PROFILES.quick : PROFILES.full;
      const profile = opts.swarm ? { ...base, swarmAgents: opts.swarm } : base;
      const extras = await loadExtras(opts.extra ?? []);
      if (opts.workloads) {
        const known = [...allWorkloads(profile), ...extras.workloads].map((w) => w.id);
        const unknown = opts.workloads.filter((id) => !known.includes(id));
        if (unknown.length > 0) throw new InvalidArgumentError(`unknown workload ${unknown.map((u) => `"${u}"`).join(', ')} (expected some of ${known.join(', ')})`);
      }
      // A bar on a terminal; one line per case on anything else (CI logs, | tee).
      const progress = progressFor(process.stderr);
      const notes: string[] = [];
      const report = await runBench({
        profile,
        ...(opts.backends && { backends: opts.backends }),
        ...(opts.workloads && { workloads: opts.workloads }),
        ...(opts.extra && { extraWorkloads: extras.workloads, extraSubjects: extras.subjects, extraModules: opts.extra }),
        onCase: (event) => progress.onCase(event),
        onCaseDone: (event) => progress.onCaseDone(event),
        onNote: (note) => notes.push(note),
      }).finally(() => progress.stop());
      const dir = opts.out ?? defaultOutDir(process.cwd(), report.startedAt);
      const { table } = writeReport(report, dir);
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(`${table}\n\nResults written to ${dir}\n`);
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
      if (report.cases.some((c) => c.status === 'failed')) process.exitCode = 1;
    });
}

/**
 * Runs the CLI. `--help` prints the usage and exits 0; a bad command line prints one line and the
 * usage on stderr, exit 2; any other error one line, exit 2. Never a stack trace.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = createProgram()
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') {
        process.exitCode = 0;
        return;
      }
      const line = error.message.replace(/^error: /, '').split('\n')[0];
      process.stderr.write(`agent-state-bench: ${line}\n\n${program.helpInformation()}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`agent-state-bench: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    process.exitCode = 2;
  }
}
