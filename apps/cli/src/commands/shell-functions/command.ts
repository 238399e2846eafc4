import type { Command } from 'commander';
import { contextOf, type CommandDefinition, type Opts } from '../../program.js';

export const shellFunctionsCommand: CommandDefinition = {
  spec: 'shell-functions',
  summary: 'print the bash library: source <(agent-state shell-functions)',
  define: (cmd) => cmd.action(async (_opts: Opts, c: Command) => (await import('./index.js')).shellFunctions(contextOf(c))),
};
