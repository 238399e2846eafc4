import type { Command } from 'commander';
import { contextOf, type CommandDefinition, type Opts } from '../../program.js';

export const publishCommand: CommandDefinition = {
  spec: 'publish <channel> [message]',
  summary: 'publish MESSAGE (JSON; - reads stdin); print {"sequence":n}',
  define: (cmd) =>
    cmd
      .option('--string', 'take MESSAGE literally as a string')
      .action(async (channel: string, message: string | undefined, opts: Opts, c: Command) =>
        (await import('./index.js')).publish(contextOf(c), channel, message, opts),
      ),
};
