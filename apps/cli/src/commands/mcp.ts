/** `agent-state mcp`: the MCP tool set over stdio (`claude mcp add agent-state -- npx agent-state mcp`). */
import type { Command } from 'commander';
import { contextOf, type CommandDefinition } from '../program.js';
import { openStateOptions } from '../context.js';

export const mcpCommand: CommandDefinition = {
  spec: 'mcp',
  summary: 'serve the MCP tool set over stdio (for Claude Code, Codex, Cursor, Gemini CLI)',
  define: (cmd) =>
    cmd.action(async (_opts: unknown, c: Command) => {
      const ctx = contextOf(c);
      const { runMcpStdio } = await import('@agent-state/server');
      await runMcpStdio(await openStateOptions(ctx));
      // Runs until stdin closes or a signal: the server's handler exits the process.
      await new Promise<never>(() => undefined);
    }),
};
