import type { Command } from 'commander';
import { parseNumber } from '../../parse.js';
import { contextOf, type CommandDefinition, type Opts } from '../../program.js';

export const incrCommand: CommandDefinition = {
  spec: 'incr <key> [by]',
  summary: 'add BY (default 1) to the number under KEY atomically; print the result',
  // BY is checked in the action (UsageError, reported with its message; an InvalidArgumentError
  // thrown there would pass for an error commander had already printed).
  define: (cmd) =>
    cmd.action(async (key: string, by: string | undefined, _opts: Opts, c: Command) =>
      (await import('./index.js')).incr(contextOf(c), key, by === undefined ? 1 : parseNumber(by, 'BY')),
    ),
};
