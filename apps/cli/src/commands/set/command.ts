import type { Command } from 'commander';
import { contextOf, duration, expectedVersion, pick, type CommandDefinition, type Opts } from '../../program.js';

export const setCommand: CommandDefinition = {
  spec: 'set <key> [value]',
  summary: 'write VALUE (JSON; - reads stdin) under KEY',
  define: (cmd) =>
    cmd
      .option('--string', 'store VALUE as a string, literally')
      .option('--if-version <n|absent>', 'write only if the current version is N (absent: only if KEY does not exist)', expectedVersion)
      .option('--ttl <duration>', 'time to live (ms, or 30s, 5m, 1h)', duration('--ttl'))
      .option('--fence', 'write only while the lock in AGENT_STATE_LOCK_* (from `lock -- COMMAND`) is held')
      .option('--json', 'print the new entry')
      .action(async (key: string, value: string | undefined, opts: Opts, c: Command) =>
        (await import('./index.js')).set(contextOf(c), key, value, {
          ...pick(opts, 'string'),
          ...pick(opts, 'ifVersion'),
          ...pick(opts, 'ttl', 'ttlMs'),
          ...pick(opts, 'fence'),
          ...pick(opts, 'json'),
        }),
      ),
};
