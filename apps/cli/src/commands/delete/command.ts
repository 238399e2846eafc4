import type { Command } from 'commander';
import { contextOf, expectedVersion, type CommandDefinition, type Opts } from '../../program.js';

export const deleteCommand: CommandDefinition = {
  spec: 'delete <key>',
  summary: 'delete KEY (exit 0 whether or not it existed)',
  define: (cmd) =>
    cmd
      .option('--if-version <n>', 'delete only if the current version is N', expectedVersion)
      .option('--fence', 'delete only while the lock in AGENT_STATE_LOCK_* is held')
      .option('--json', 'print {"deleted":true|false}')
      .action(async (key: string, opts: Opts, c: Command) => (await import('./index.js')).del(contextOf(c), key, opts)),
};
