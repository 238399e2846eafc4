import type { Command } from 'commander';
import { collect, contextOf, duration, expectedVersion, pick, type CommandDefinition, type Opts } from '../../program.js';

export const updateCommand: CommandDefinition = {
  spec: 'update <key> [value]',
  summary: 'atomic read-modify-write with --expr, or a compare-and-set of VALUE (or stdin) with --if-version',
  define: (cmd) =>
    cmd
      .option('-e, --expr <js>', 'JavaScript expression over `value` (null when absent), `entry` and `args`; retried on conflict')
      .option('-a, --arg <name=value>', 'a string visible to --expr as args.NAME (repeatable)', collect)
      .option('--if-version <n|absent>', 'compare-and-set: write VALUE only if the version is still N', expectedVersion)
      .option('--string', 'take VALUE literally as a string')
      .option('--ttl <duration>', 'time to live of the new value', duration('--ttl'))
      .option('--json', 'print the new entry instead of the new value')
      .option('--raw', 'print a string value without quotes')
      .action(async (key: string, value: string | undefined, opts: Opts, c: Command) =>
        (await import('./index.js')).update(contextOf(c), key, value, {
          ...pick(opts, 'expr'),
          args: (opts.arg as string[] | undefined) ?? [],
          ...pick(opts, 'ifVersion'),
          ...pick(opts, 'string'),
          ...pick(opts, 'ttl', 'ttlMs'),
          ...pick(opts, 'json'),
          ...pick(opts, 'raw'),
        }),
      ),
};
