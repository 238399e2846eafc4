import type { Command } from 'commander';
import { contextOf, type CommandDefinition, type Opts } from '../../program.js';

export const healthCommand: CommandDefinition = {
  spec: 'health',
  summary: 'print the backend health report (exit BACKEND_UNAVAILABLE when unreachable)',
  define: (cmd) => cmd.action(async (_opts: Opts, c: Command) => (await import('./index.js')).health(contextOf(c))),
};
