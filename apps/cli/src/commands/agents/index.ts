/** `agent-state agents register|heartbeat|list|unregister`: the agent registry from bash. */
import type { RegisterOptions } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { parseValue, type ValueOptions } from '../../io.js';

/** Options of {@link agentsRegister}. */
export interface AgentsRegisterOptions extends ValueOptions {
  heartbeatIntervalMs?: number;
  registryTtlMs?: number;
  /** A local pid to watch (the agent is `missing` as soon as it is gone). */
  pid?: number;
}

/** Registers an agent with its info (JSON, default `{}`). */
export async function agentsRegister(ctx: CommandContext, agentId: string, info: string | undefined, options: AgentsRegisterOptions = {}): Promise<void> {
  const value = info === undefined ? {} : parseValue(info, options, 'info');
  const opts: RegisterOptions = {};
  if (options.heartbeatIntervalMs !== undefined) opts.heartbeatIntervalMs = options.heartbeatIntervalMs;
  if (options.registryTtlMs !== undefined) opts.registryTtlMs = options.registryTtlMs;
  if (options.pid !== undefined) opts.pid = options.pid;
  await withState(ctx, (state) => state.agents.register(agentId, value, opts));
}

/** Records a heartbeat with metrics (JSON, default null). */
export async function agentsHeartbeat(ctx: CommandContext, agentId: string, metrics: string | undefined, options: ValueOptions = {}): Promise<void> {
  const value = metrics === undefined ? null : parseValue(metrics, options, 'metrics');
  await withState(ctx, (state) => state.agents.heartbeat(agentId, value));
}

/** One JSON line per agent: agentId, info, metrics, registeredAt, lastHeartbeat, status. */
export async function agentsList(ctx: CommandContext): Promise<void> {
  const agents = await withState(ctx, (state) => state.agents.list());
  ctx.stdout(agents.map((a) => `${JSON.stringify(a)}\n`).join(''));
}

/** Removes an agent from the registry. */
export async function agentsUnregister(ctx: CommandContext, agentId: string): Promise<void> {
  await withState(ctx, (state) => state.agents.unregister(agentId));
}
