import type { Command } from 'commander';
import { contextOf, number, type CommandDefinition, type Opts } from '../../program.js';

export const incrCommand: CommandDefinition = {
  spec: 'incr <key> [by]',
  summary: 'add BY (default 1) to the number under KEY atomically; print the result',
  define: (cmd) =>
    cmd.action(async (key: string, by: string | undefined, _opts: Opts, c: Command) =>
      (await import('./index.js')).incr(contextOf(c), key, by === undefined ? 1 : number('BY')(by)),
    ),
};
