import type { Command } from 'commander';
import { contextOf, duration, pick, type CommandDefinition, type Opts } from '../../program.js';

const impl = () => import('./index.js');

export const topCommand: CommandDefinition = {
  spec: 'top',
  summary: "the dashboard in the terminal: agents, queues, locks, mailboxes, logs, op rates (q quits; --once for scripts)",
  define: (cmd) =>
    cmd
      .option('--once', 'print one picture (no colors unless a terminal, no clearing) and exit')
      .option('--interval <duration>', 'refresh every DURATION (default 1s)', duration('--interval'))
      .option('--url <url>', "read a running server's picture (its leases held and op rates) instead of opening the store")
      .option('--token-file <file>', 'token for --url (default .agent-state/serve.token next to project.yml); AGENT_STATE_TOKEN wins')
      .action(async (opts: Opts, c: Command) =>
        (await impl()).top(contextOf(c), {
          ...pick(opts, 'once'),
          ...pick(opts, 'interval', 'intervalMs'),
          ...pick(opts, 'url'),
          ...pick(opts, 'tokenFile'),
        }),
      ),
};
