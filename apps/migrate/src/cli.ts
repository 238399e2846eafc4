import { Command, InvalidArgumentError, Option } from 'commander';
import { exportState } from './commands/export/index.js';
import { importState } from './commands/import/index.js';
import { migrate } from './commands/migrate/index.js';
import { EXIT_CODES, toMigrateError } from './errors.js';
import { formatReport } from './lib/format-report.js';
import { progressBar } from './lib/progress-bar.js';
import type { CommonOptions, MigrationReport } from './lib/report.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

/**
 * The command line. `run` parses argv, runs one command, prints the report (human or `--json`)
 * and returns the exit code; the one error handler here maps every error to its exit code.
 */
export async function run(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let json = false;
  let exitCode: number = EXIT_CODES.OK;
  const execute = async (options: { json?: boolean; progress?: boolean }, command: (common: CommonOptions) => Promise<MigrationReport>) => {
    json = options.json === true;
    const bar = json || options.progress === false ? undefined : progressBar(io.stderr);
    let report: MigrationReport;
    try {
      report = await command(bar ? { onProgress: bar.onProgress } : {});
    } finally {
      bar?.stop();
    }
    io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    if (!report.ok) exitCode = EXIT_CODES.VERIFY_FAILED;
  };

  const program = new Command('agent-state-migrate')
    .description('Move an agent-state namespace between backends (file, sqlite, redis, firebase, postgres) or to/from a JSONL file.')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .option('--from <backend>', 'source backend; its settings come from project.yml')
    .option('--from-config <file>', 'YAML file whose communication block describes the source')
    .option('--from-namespace <name>', 'source namespace (default: the config\'s)')
    .option('--to <backend>', 'target backend; its settings come from project.yml')
    .option('--to-config <file>', 'YAML file whose communication block describes the target')
    .option('--to-namespace <name>', 'target namespace (default: the config\'s)')
    .option('--switch', 'after a verified copy, set communication.backend in project.yml to the target');
  common(program).action(async (o: Record<string, unknown>) => {
    await execute(o, (extra) => migrate({ ...commonOf(o), ...extra, ...pick(o, ['from', 'fromConfig', 'fromNamespace', 'to', 'toConfig', 'toNamespace']), switch: o['switch'] === true }));
  });

  common(
    program
      .command('export')
      .description('write the namespace to a JSONL file (header line + one line per entry)')
      .requiredOption('--to <file>', 'the JSONL file to write')
      .option('--from <backend>', 'source backend (default: the one project.yml selects)')
      .option('--from-config <file>', 'YAML file whose communication block describes the source')
      .option('--from-namespace <name>', 'source namespace'),
  ).action(async (o: Record<string, unknown>) => {
    await execute(o, (extra) => exportState({ ...commonOf(o), ...extra, to: String(o['to']), ...pick(o, ['from', 'fromConfig', 'fromNamespace']) }));
  });

  common(
    program
      .command('import')
      .description('load a JSONL file written by export into a backend')
      .requiredOption('--from <file>', 'the JSONL file to read')
      .option('--to <backend>', 'target backend (default: the one project.yml selects)')
      .option('--to-config <file>', 'YAML file whose communication block describes the target')
      .option('--to-namespace <name>', 'target namespace'),
  ).action(async (o: Record<string, unknown>) => {
    await execute(o, (extra) => importState({ ...commonOf(o), ...extra, from: String(o['from']), ...pick(o, ['to', 'toConfig', 'toNamespace']) }));
  });

  // A usage error prints commander's one line, then the usage of the command (issue 20 item 4).
  for (const c of [program, ...program.commands]) {
    const name = c.parent ? `agent-state-migrate ${c.name()}` : c.name();
    c.showHelpAfterError(`usage: ${name} ${c.usage()}  (${name} --help for more)`);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // Commander already printed the message (or the help).
      return code === 'commander.helpDisplayed' || code === 'commander.version' ? EXIT_CODES.OK : EXIT_CODES.USAGE;
    }
    const failure = toMigrateError(error);
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code: failure.code, message: failure.message } })}\n`);
    io.stderr.write(`agent-state-migrate: ${failure.message}\n`);
    if (failure.code === 'INTERNAL' && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return failure.exitCode;
  }
}

function common(command: Command): Command {
  return command
    .option('--dry-run', 'count and size what would be copied; write nothing')
    .option('--no-verify', 'skip comparing every key on both sides after the copy')
    .option('--resume', 'continue an interrupted run from its checkpoint')
    .option('--overwrite', 'replace what the target holds')
    .option('--force', 'migrate even while agents heartbeat or jobs are claimed')
    .addOption(new Option('--batch-size <n>', 'writes per target transaction').default(500).argParser(positiveInt))
    .addOption(new Option('--lock-ttl <ms>', 'lease of the migration lock on the source').default(60_000).argParser(positiveInt))
    .option('--json', 'print the report as JSON (for scripts)')
    .option('--no-progress', 'no progress bar');
}

function commonOf(o: Record<string, unknown>): CommonOptions {
  return {
    dryRun: o['dryRun'] === true,
    verify: o['verify'] !== false,
    resume: o['resume'] === true,
    overwrite: o['overwrite'] === true,
    force: o['force'] === true,
    batchSize: o['batchSize'] as number,
    lockTtlMs: o['lockTtl'] as number,
  };
}

function pick(o: Record<string, unknown>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) if (typeof o[n] === 'string') out[n] = o[n];
  return out;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}
