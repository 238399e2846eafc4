import type { Command } from 'commander';
import { contextOf, integer, pick, subcommand, type CommandDefinition, type Opts } from '../../program.js';

const impl = () => import('./index.js');

export const logCommand: CommandDefinition = {
  spec: 'log',
  summary: 'append-only logs: append, read, follow',
  define(log) {
    subcommand(log, 'append <name> [record]', 'append RECORD (JSON; - reads stdin); print {"seq","at"}')
      .option('--string', 'take RECORD literally as a string')
      .action(async (name: string, record: string | undefined, opts: Opts, c: Command) =>
        (await impl()).logAppend(contextOf(c), name, record, pick(opts, 'string')),
      );
    subcommand(log, 'read <name>', 'print the records, oldest first, one JSON line each: {"seq","at","record"}')
      .option('--after <seq>', 'only records after this seq', integer('--after'))
      .option('--limit <n>', 'at most N records', integer('--limit'))
      .option('--record', 'print only each record')
      .option('--raw', 'with --record: a string record without quotes')
      .action(async (name: string, opts: Opts, c: Command) =>
        (await impl()).logRead(contextOf(c), name, { ...pick(opts, 'after'), ...pick(opts, 'limit'), ...pick(opts, 'record'), ...pick(opts, 'raw') }),
      );
    subcommand(log, 'follow <name>', 'print records as they are appended (no polling), until SIGINT/SIGTERM')
      .option('--after <seq>', 'start after this seq (default: only new records)', integer('--after'))
      .option('--count <n>', 'exit after N records', integer('--count'))
      .option('--record', 'print only each record')
      .option('--raw', 'with --record: a string record without quotes')
      .action(async (name: string, opts: Opts, c: Command) =>
        (await impl()).logFollow(contextOf(c), name, { ...pick(opts, 'after'), ...pick(opts, 'count'), ...pick(opts, 'record'), ...pick(opts, 'raw') }),
      );
  },
};
