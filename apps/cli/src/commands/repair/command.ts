import type { Command } from 'commander';
import { contextOf, type CommandDefinition, type Opts } from '../../program.js';

export const repairCommand: CommandDefinition = {
  spec: 'repair <key>',
  summary: 'report damage under KEY (CORRUPT_DATA); with --delete remove the damaged entry and say what it was',
  define: (cmd) =>
    cmd
      .option('--delete', 'remove the damaged entry (it then reads as absent)')
      .action(async (key: string, opts: Opts, c: Command) => (await import('./index.js')).repair(contextOf(c), key, { delete: opts.delete === true })),
};
