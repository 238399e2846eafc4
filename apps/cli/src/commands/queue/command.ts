import { Option, type Command } from 'commander';
import { contextOf, duration, pick, subcommand, type CommandDefinition, type Opts } from '../../program.js';

const impl = () => import('./index.js');

export const queueCommand: CommandDefinition = {
  spec: 'queue',
  summary: 'priority queues with leases: push, pop, ack, nack, size',
  define(queue) {
    subcommand(queue, 'push <queue> [payload]', 'enqueue PAYLOAD (JSON; - reads stdin); print {"id","sequence"}')
      .option('--string', 'take PAYLOAD literally as a string')
      .option('-p, --priority <p>', 'high, normal (default), low or a whole number; larger first')
      .option('--delay <duration>', 'invisible to consumers for this long', duration('--delay'))
      .action(async (name: string, payload: string | undefined, opts: Opts, c: Command) =>
        (await impl()).queuePush(contextOf(c), name, payload, { ...pick(opts, 'string'), ...pick(opts, 'priority'), ...pick(opts, 'delay', 'delayMs') }),
      );
    subcommand(queue, 'pop <queue>', 'claim the next job; print it as JSON with id and leaseId (exit 1 when empty)')
      .option('--lease <duration>', 'how long the claim lasts (default 60s)', duration('--lease'))
      .option('--wait <duration>', 'block up to this long for a job (woken by the backend, no polling), then exit 1', duration('--wait'))
      .option('--ack', "ack at once (at-most-once, like the seed plan's dequeue_command)")
      .option('--payload', 'print only the payload')
      .option('--raw', 'print only the payload, a string without quotes')
      .addOption(new Option('--shell', 'print "ID LEASE_ID ATTEMPTS" then the raw payload (for the shell functions)'))
      .action(async (name: string, opts: Opts, c: Command) =>
        (await impl()).queuePop(contextOf(c), name, {
          ...pick(opts, 'lease', 'leaseMs'),
          ...pick(opts, 'wait', 'waitMs'),
          ack: opts.ack === true,
          payload: opts.payload === true,
          raw: opts.raw === true,
          shell: opts.shell === true,
        }),
      );
    subcommand(queue, 'ack <queue> <job-id> <lease-id>', 'remove a claimed job (exit 1 when that claim is no longer current)').action(
      async (name: string, id: string, leaseId: string, _opts: Opts, c: Command) => (await impl()).queueSettle(contextOf(c), name, id, leaseId),
    );
    subcommand(queue, 'nack <queue> <job-id> <lease-id>', 'give a claimed job back (visible again after --delay)')
      .option('--delay <duration>', 'invisible for this long first', duration('--delay'))
      .action(async (name: string, id: string, leaseId: string, opts: Opts, c: Command) =>
        (await impl()).queueSettle(contextOf(c), name, id, leaseId, (opts.delay as number | undefined) ?? 0),
      );
    subcommand(queue, 'size <queue>', 'jobs not yet acked').action(async (name: string, _opts: Opts, c: Command) =>
      (await impl()).queueSize(contextOf(c), name),
    );
  },
};
