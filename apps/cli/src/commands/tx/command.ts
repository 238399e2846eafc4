import type { Command } from 'commander';
import { contextOf, duration, pick, subcommand, type CommandDefinition, type Opts } from '../../program.js';

const impl = () => import('./index.js');

export const txCommand: CommandDefinition = {
  spec: 'tx',
  summary: 'a transaction across invocations: begin, read, write, delete, commit, rollback',
  define(tx) {
    subcommand(tx, 'begin', 'start a transaction; print its id')
      .option('--ttl <duration>', 'discarded if not committed within this (default 1h)', duration('--ttl'))
      .action(async (opts: Opts, c: Command) => (await impl()).txBegin(contextOf(c), pick(opts, 'ttl', 'ttlMs')));
    subcommand(tx, 'read <id> <key>', 'read KEY in the transaction (the version is checked at commit); exit 1 when absent')
      .option('--json', 'print the whole entry')
      .option('--raw', 'print a string value without quotes')
      .action(async (id: string, key: string, opts: Opts, c: Command) => (await impl()).txRead(contextOf(c), id, key, opts));
    subcommand(tx, 'write <id> <key> [value]', 'buffer a write of VALUE (JSON; - reads stdin)')
      .option('--string', 'take VALUE literally as a string')
      .option('--ttl <duration>', 'time to live of the written value', duration('--ttl'))
      .action(async (id: string, key: string, value: string | undefined, opts: Opts, c: Command) =>
        (await impl()).txWrite(contextOf(c), id, key, value, { ...pick(opts, 'string'), ...pick(opts, 'ttl', 'ttlMs') }),
      );
    subcommand(tx, 'delete <id> <key>', 'buffer a delete').action(async (id: string, key: string, _opts: Opts, c: Command) =>
      (await impl()).txDelete(contextOf(c), id, key),
    );
    subcommand(tx, 'commit <id>', 'apply every write atomically if nothing read has changed (else CONFLICT, nothing written)')
      .option('--json', 'print {"committed":true,"writes":n}')
      .action(async (id: string, opts: Opts, c: Command) => (await impl()).txCommit(contextOf(c), id, opts));
    subcommand(tx, 'rollback <id>', 'discard the transaction').action(async (id: string, _opts: Opts, c: Command) =>
      (await impl()).txRollback(contextOf(c), id),
    );
  },
};
