import type { Command } from 'commander';
import { contextOf, integer, type CommandDefinition, type Opts } from '../../program.js';

export const listCommand: CommandDefinition = {
  spec: 'list [prefix]',
  summary: 'one JSON line per live entry under PREFIX, in key order',
  define: (cmd) =>
    cmd
      .option('--keys', 'print only the keys, one per line')
      .option('--after <key>', 'only keys after this one')
      .option('--limit <n>', 'at most N entries', integer('--limit'))
      .action(async (prefix: string | undefined, opts: Opts, c: Command) => (await import('./index.js')).list(contextOf(c), prefix, opts)),
};
