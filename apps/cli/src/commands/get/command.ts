import { contextOf, type CommandDefinition, type Opts } from '../../program.js';
import type { Command } from 'commander';

export const getCommand: CommandDefinition = {
  spec: 'get <key>',
  summary: 'print the value of KEY as JSON (exit 1, nothing printed, when absent)',
  define: (cmd) =>
    cmd
      .option('--json', 'print the whole entry: key, value, version, updatedAt, expiresAt')
      .option('--raw', 'print a string value without quotes')
      .action(async (key: string, opts: Opts, c: Command) => (await import('./index.js')).get(contextOf(c), key, opts)),
};
