import type { Command } from 'commander';
import { contextOf, duration, integer, pick, subcommand, type CommandDefinition, type Opts } from '../../program.js';

const impl = () => import('./index.js');

export const agentsCommand: CommandDefinition = {
  spec: 'agents',
  summary: 'the agent registry: register, heartbeat, list, unregister',
  define(agents) {
    subcommand(agents, 'register <agent-id> [info]', 'register an agent with INFO (JSON, default {})')
      .option('--string', 'take INFO literally as a string')
      .option('--interval <duration>', 'the heartbeat interval it promises (default 5s)', duration('--interval'))
      .option('--ttl <duration>', 'silent this long, it is missing (default 60s)', duration('--ttl'))
      .option('--pid <pid>', 'a local process to watch: missing as soon as it is gone', integer('--pid'))
      .action(async (id: string, info: string | undefined, opts: Opts, c: Command) =>
        (await impl()).agentsRegister(contextOf(c), id, info, {
          ...pick(opts, 'string'),
          ...pick(opts, 'interval', 'heartbeatIntervalMs'),
          ...pick(opts, 'ttl', 'registryTtlMs'),
          ...pick(opts, 'pid'),
        }),
      );
    subcommand(agents, 'heartbeat <agent-id> [metrics]', 'record a heartbeat with METRICS (JSON)')
      .option('--string', 'take METRICS literally as a string')
      .action(async (id: string, metrics: string | undefined, opts: Opts, c: Command) =>
        (await impl()).agentsHeartbeat(contextOf(c), id, metrics, pick(opts, 'string')),
      );
    subcommand(agents, 'list', 'one JSON line per agent with its status (healthy, unhealthy, missing)').action(async (_opts: Opts, c: Command) =>
      (await impl()).agentsList(contextOf(c)),
    );
    subcommand(agents, 'unregister <agent-id>', 'remove an agent').action(async (id: string, _opts: Opts, c: Command) =>
      (await impl()).agentsUnregister(contextOf(c), id),
    );
  },
};
