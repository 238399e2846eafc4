/**
 * `agent-state serve`: the contract over HTTP/JSON, SSE and MCP (`/mcp`) for agents that are not
 * Node processes. The server package is imported only when the command runs.
 */
import type { Command } from 'commander';
import { openStateOptions } from '../context.js';
import { collect, contextOf, integer, type CommandDefinition, type Opts } from '../program.js';

// The store and its backend come from `openStateOptions` (context.ts): the backend is created
// by a literal import there, so the bundled CLI, its backend and the server share one core.
export const serveCommand: CommandDefinition = {
  spec: 'serve',
  summary: 'serve the store over HTTP/JSON, SSE and MCP (/mcp) on 127.0.0.1:7878 until SIGINT/SIGTERM',
  define: (cmd) =>
    cmd
      .option('--host <host>', 'address to bind (default 127.0.0.1; anything else is plain HTTP on the network)')
      .option('--port <port>', 'port (default 7878; 0 picks a free one, printed in the ready line)', integer('--port'))
      .option('--token-file <file>', 'bearer token file (default .agent-state/serve.token next to project.yml); AGENT_STATE_TOKEN wins')
      .option('--allow-host <name>', 'also accept this Host header (repeatable; DNS-rebinding check)', collect)
      .option('--dashboard-actions', 'let the dashboard retry/delete dead letters and force-release locks (each confirmed, written to the audit log)')
      .action(async (opts: Opts, c: Command) => {
        const ctx = contextOf(c);
        const { runServe } = await import('@agent-state/server');
        await runServe({
          ...(await openStateOptions(ctx)),
          ...(opts.host !== undefined && { host: opts.host as string }),
          ...(opts.port !== undefined && { port: opts.port as number }),
          ...(opts.tokenFile !== undefined && { tokenFile: opts.tokenFile as string }),
          ...(opts.allowHost !== undefined && { allowHosts: opts.allowHost as string[] }),
          ...(opts.dashboardActions === true && { dashboardActions: true }),
        });
        // Runs until a signal: the server's handler exits the process.
        await new Promise<never>(() => undefined);
      }),
};
