/**
 * The one definition of the command line: the program, the list of commands (each in its own
 * folder, `commands/<name>/command.ts` for options and help, `index.ts` for the work), and the
 * top-level handler that maps any error to an exit code and one stderr line. Only the invoked
 * command's options are built, and its implementation (and core, and the configured backend) is
 * imported only when it runs, so `--help` loads commander and nothing else.
 */
import { Command } from 'commander';
import { agentsCommand } from './commands/agents/command.js';
import { batchCommand } from './commands/batch/command.js';
import { deleteCommand } from './commands/delete/command.js';
import { getCommand } from './commands/get/command.js';
import { healthCommand } from './commands/health/command.js';
import { incrCommand } from './commands/incr/command.js';
import { listCommand } from './commands/list/command.js';
import { lockCommand } from './commands/lock/command.js';
import { logCommand } from './commands/log/command.js';
import { publishCommand } from './commands/publish/command.js';
import { queueCommand } from './commands/queue/command.js';
import { repairCommand } from './commands/repair/command.js';
import { setCommand } from './commands/set/command.js';
import { shellFunctionsCommand } from './commands/shell-functions/command.js';
import { subscribeCommand } from './commands/subscribe/command.js';
import { txCommand } from './commands/tx/command.js';
import { updateCommand } from './commands/update/command.js';
import { waitCommand } from './commands/wait/command.js';
import { inboxCommand } from './commands/inbox.js';
import { mcpCommand } from './commands/mcp.js';
import { sendCommand } from './commands/send.js';
import { serveCommand } from './commands/serve.js';
import { topCommand } from './commands/top/command.js';
import { oneLine } from './errors.js';
import { common, configOption, type CommandDefinition } from './program.js';
import { run } from './run.js';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandDefinition[] = [
  getCommand,
  setCommand,
  deleteCommand,
  listCommand,
  updateCommand,
  incrCommand,
  waitCommand,
  repairCommand,
  lockCommand,
  queueCommand,
  logCommand,
  publishCommand,
  subscribeCommand,
  agentsCommand,
  healthCommand,
  txCommand,
  batchCommand,
  shellFunctionsCommand,
  // apps/server's commands (the server package is imported only inside their actions)
  serveCommand,
  mcpCommand,
  inboxCommand,
  sendCommand,
  topCommand,
];

/**
 * The `agent-state` program. With `argv`, only the command it invokes gets its options and
 * action (all commands are still listed and routed); without, every command is defined (for
 * tests and documentation).
 */
export function buildProgram(argv?: readonly string[]): Command {
  const program = configOption(new Command('agent-state'))
    .description('Shared state for multi-agent scripts: keys, locks, transactions, queues, logs, pub/sub (reads project.yml)')
    .version('0.1.0')
    .showSuggestionAfterError(false)
    .configureOutput({
      // Commander's own errors (unknown option, missing argument) become one line, then the usage.
      outputError: (text, write) => write(`${oneLine('USAGE', text.replace(/^error:\s*/i, ''))}\n`),
    })
    .exitOverride();

  const invoked = argv === undefined ? undefined : invokedCommands(argv);
  for (const definition of COMMANDS) {
    const cmd = common(program.command(definition.spec).description(definition.summary));
    if (invoked === undefined || invoked.has(cmd.name())) definition.define(cmd);
  }

  // Commands of other packages (apps/server: serve, mcp, inbox, send) are registered here.

  withUsageAfterErrors(program);
  return program;
}

/** The command names `argv` may invoke: the first word that is not an option (and, after `help`, the next). */
function invokedCommands(argv: readonly string[]): Set<string> {
  const names = new Set<string>();
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) {
      names.add(a);
      if (a === 'help' && args[i + 1] !== undefined) names.add(args[i + 1]!);
      break;
    }
  }
  return names;
}

/** After a usage error, every command prints its own usage line (and where to find more). */
function withUsageAfterErrors(cmd: Command): void {
  cmd.showHelpAfterError(`usage: ${fullName(cmd)} ${cmd.usage()}  (${fullName(cmd)} --help for more)`);
  for (const sub of cmd.commands) withUsageAfterErrors(sub);
}

function fullName(cmd: Command): string {
  return cmd.parent ? `${fullName(cmd.parent)} ${cmd.name()}` : cmd.name();
}

/** Runs the CLI and exits with the code the outcome maps to (run.ts: the one top-level error handler). */
export function main(argv: readonly string[]): Promise<never> {
  return run(() => buildProgram(argv).parseAsync(argv as string[]));
}
