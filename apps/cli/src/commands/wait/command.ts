import type { Command } from 'commander';
import { contextOf, duration, integer, pick, type CommandDefinition, type Opts } from '../../program.js';

export const waitCommand: CommandDefinition = {
  spec: 'wait <key>',
  summary: 'block until KEY reaches a version (no polling); print the entry; exit TIMEOUT (20) past --timeout',
  define: (cmd) =>
    cmd
      .option('--until-version <n>', 'wait until the version of KEY is at least N', integer('--until-version'))
      .option('--timeout <duration>', 'give up after this long (default 30s)', duration('--timeout'))
      .option('--value', 'print only the value')
      .option('--raw', 'with --value: a string value without quotes')
      .action(async (key: string, opts: Opts, c: Command) =>
        (await import('./index.js')).wait(contextOf(c), key, { ...pick(opts, 'untilVersion'), ...pick(opts, 'timeout', 'timeoutMs'), ...pick(opts, 'value'), ...pick(opts, 'raw') }),
      ),
};
