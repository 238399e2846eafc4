import type { Command } from 'commander';
import { contextOf, integer, type CommandDefinition, type Opts } from '../../program.js';

export const subscribeCommand: CommandDefinition = {
  spec: 'subscribe <channel>',
  summary: 'print one JSON line per message published from now on, until SIGINT/SIGTERM',
  define: (cmd) =>
    cmd
      .option('--json', 'print the whole delivery: channel, sequence, message, publishedAt, publisher')
      .option('--raw', 'print a string message without quotes')
      .option('--count <n>', 'exit after N messages', integer('--count'))
      .option('--ready-file <file>', 'create FILE once subscribed')
      .action(async (channel: string, opts: Opts, c: Command) => (await import('./index.js')).subscribe(contextOf(c), channel, opts)),
};
