import type { StateClient } from '../client.js';
import type { JsonValue } from '../types.js';
import { localHost, ownerIsDeadLocally } from '../owner.js';
import { assertJsonValue, assertOptions, assertPositive, assertSegment } from '../validate.js';
import { AGENTS_PREFIX, agentKey } from './layout.js';

/** Options of {@link Agents.register}. */
export interface RegisterOptions {
  /** How often the agent promises to heartbeat; default 5 000 ms (the swarm protocol's). */
  heartbeatIntervalMs?: number;
  /** Silent this long, the agent is `missing`; default 60 000 ms. */
  registryTtlMs?: number;
  /** A local pid to watch: when that process is gone, the agent is `missing` at once. */
  pid?: number;
}

/** Health computed from the last heartbeat. */
export type AgentStatus = 'healthy' | 'unhealthy' | 'missing';

/** One agent as `list()` reports it. */
export interface AgentInfo {
  agentId: string;
  info: JsonValue;
  metrics: JsonValue;
  registeredAt: number;
  lastHeartbeat: number;
  status: AgentStatus;
}

// A type alias (not an interface) so that a record is a JsonValue without casts.
type AgentRecord = {
  info: JsonValue;
  metrics: JsonValue;
  registeredAt: number;
  lastHeartbeat: number;
  heartbeatIntervalMs: number;
  registryTtlMs: number;
  /** `host:pid` of a process to watch, when given. */
  process: string | null;
};

/**
 * The agent registry: `register`, `heartbeat`, `list` with status from the last heartbeat —
 * `healthy` under 2× the interval, `unhealthy` after, `missing` after the registry TTL (or when
 * a watched local pid is gone).
 */
export class Agents {
  /** @internal Use `state.agents`. */
  constructor(private readonly state: StateClient) {}

  /** Registers (or re-registers) an agent; counts as a heartbeat. */
  async register(agentId: string, info: JsonValue = {}, options?: RegisterOptions): Promise<void> {
    this.state.guard('register an agent');
    assertSegment(agentId, 'agentId');
    assertJsonValue(info, 'info');
    assertOptions(options, 'options', ['heartbeatIntervalMs', 'registryTtlMs', 'pid']);
    assertPositive(options?.heartbeatIntervalMs, 'options.heartbeatIntervalMs');
    assertPositive(options?.registryTtlMs, 'options.registryTtlMs');
    assertPositive(options?.pid, 'options.pid', { integer: true });
    const now = Date.now();
    await this.state.update<JsonValue>(agentKey(agentId), (current) => {
      const previous = current?.value as AgentRecord | undefined;
      const record: AgentRecord = {
        info,
        metrics: previous?.metrics ?? null,
        registeredAt: now,
        lastHeartbeat: now,
        heartbeatIntervalMs: options?.heartbeatIntervalMs ?? 5_000,
        registryTtlMs: options?.registryTtlMs ?? 60_000,
        process: options?.pid !== undefined ? `${localHost()}:${options.pid}` : null,
      };
      return record;
    });
  }

  /** Records a heartbeat with fresh metrics; registers the agent if it was not. */
  async heartbeat(agentId: string, metrics: JsonValue = null): Promise<void> {
    this.state.guard('heartbeat');
    assertSegment(agentId, 'agentId');
    assertJsonValue(metrics, 'metrics');
    const now = Date.now();
    await this.state.update<JsonValue>(agentKey(agentId), (current) => {
      const previous = current?.value as AgentRecord | undefined;
      const record: AgentRecord = previous
        ? { ...previous, metrics, lastHeartbeat: now }
        : { info: {}, metrics, registeredAt: now, lastHeartbeat: now, heartbeatIntervalMs: 5_000, registryTtlMs: 60_000, process: null };
      return record;
    });
  }

  /** Removes an agent from the registry. */
  async unregister(agentId: string): Promise<boolean> {
    this.state.guard('unregister an agent');
    assertSegment(agentId, 'agentId');
    return this.state.delete(agentKey(agentId));
  }

  /** Every registered agent with its status, by id. */
  async list(): Promise<AgentInfo[]> {
    this.state.guard('list agents');
    const now = Date.now();
    const out: AgentInfo[] = [];
    for await (const entry of this.state.list({ prefix: AGENTS_PREFIX })) {
      const r = entry.value as AgentRecord;
      out.push({
        agentId: entry.key.slice(AGENTS_PREFIX.length),
        info: r.info,
        metrics: r.metrics,
        registeredAt: r.registeredAt,
        lastHeartbeat: r.lastHeartbeat,
        status: statusOf(r, now),
      });
    }
    return out;
  }
}

function statusOf(r: AgentRecord, now: number): AgentStatus {
  const silence = now - r.lastHeartbeat;
  if (silence >= r.registryTtlMs) return 'missing';
  if (r.process !== null && ownerIsDeadLocally(r.process)) return 'missing';
  return silence < 2 * r.heartbeatIntervalMs ? 'healthy' : 'unhealthy';
}
