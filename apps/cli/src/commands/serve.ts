/**
 * `agent-state serve`: the contract over HTTP/JSON, SSE and MCP (`/mcp`) for agents that are not
 * Node processes. The server package is imported only when the command runs.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { collect, contextOf, integer, type CommandDefinition, type Opts } from '../program.js';

/**
 * Where the store is and the backend to use, created here by a literal import (like the other
 * commands' `withState`), so the bundled CLI, its backend and the server share one copy of core.
 */
export async function storeOptions(ctx: CommandContext): Promise<Record<string, unknown>> {
  const where = { cwd: ctx.cwd, env: ctx.env, ...(ctx.configFile !== undefined && { configFile: ctx.configFile }) };
  const { loadConfig } = await import('@agent-state/core');
  const config = loadConfig(where);
  const backends: Record<string, (() => Promise<{ createBackend(c: typeof config): unknown }>) | undefined> = {
    file: () => import('@agent-state/backend-file'),
    sqlite: () => import('@agent-state/backend-sqlite'),
    redis: () => import('@agent-state/backend-redis'),
    firebase: () => import('@agent-state/backend-firebase'),
  };
  const load = backends[config.backend];
  return load ? { ...where, backend: (await load()).createBackend(config) } : where;
}

export const serveCommand: CommandDefinition = {
  spec: 'serve',
  summary: 'serve the store over HTTP/JSON, SSE and MCP (/mcp) on 127.0.0.1:7878 until SIGINT/SIGTERM',
  define: (cmd) =>
    cmd
      .option('--host <host>', 'address to bind (default 127.0.0.1; anything else is plain HTTP on the network)')
      .option('--port <port>', 'port (default 7878; 0 picks a free one, printed in the ready line)', integer('--port'))
      .option('--token-file <file>', 'bearer token file (default .agent-state/serve.token next to project.yml); AGENT_STATE_TOKEN wins')
      .option('--allow-host <name>', 'also accept this Host header (repeatable; DNS-rebinding check)', collect)
      .action(async (opts: Opts, c: Command) => {
        const ctx = contextOf(c);
        const { runServe } = await import('@agent-state/server');
        await runServe({
          ...(await storeOptions(ctx)),
          ...(opts.host !== undefined && { host: opts.host as string }),
          ...(opts.port !== undefined && { port: opts.port as number }),
          ...(opts.tokenFile !== undefined && { tokenFile: opts.tokenFile as string }),
          ...(opts.allowHost !== undefined && { allowHosts: opts.allowHost as string[] }),
        });
        // Runs until a signal: the server's handler exits the process.
        await new Promise<never>(() => undefined);
      }),
};
