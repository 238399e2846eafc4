/**
 * The MCP tool set of server.md, on the official SDK: over stdio (`agent-state mcp`) and over
 * streamable HTTP (`/mcp`, stateless: a fresh server and transport per request, so any server on
 * the shared backend can answer any request). Few tools, short descriptions: every schema costs
 * the agent context.
 *
 * The tool definitions (zod schemas, descriptions, handlers) are built once per process
 * ({@link McpContext}); a request builds only what the SDK's stateless mode needs, a server that
 * registers the prebuilt tools and a transport. The transport is the SDK's web-standard one,
 * given a `Request` made from the already-parsed Fastify request; its JSON `Response` is written
 * back through Fastify (the SDK's Node wrapper converts both ways through @hono/node-server,
 * which a loaded profile showed at a quarter of the request).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { InvalidKeyError, assertSegment, type JsonValue } from '@agent-state/core';
import { hasCode } from './errors.js';
import { type Fence, type Ops, parseFence } from './ops.js';

/** Heartbeat interval of an agent first seen through MCP: an agent thinking for minutes is not missing. */
export const MCP_HEARTBEAT_INTERVAL_MS = 300_000;
const MCP_REGISTRY_TTL_MS = 3 * MCP_HEARTBEAT_INTERVAL_MS;
const MAX_TOOL_WAIT_MS = 60_000;

/** Prefix of every resource key that `lock_acquire` makes from a path. */
export const PATH_RESOURCE_PREFIX = 'files';

const SAFE = /[A-Za-z0-9._\-:@+,]/;

/**
 * Maps a file path to a lock resource key, reversibly: `files/` + one key segment per path
 * segment, where every byte outside `A-Z a-z 0-9 . _ - : @ + ,` (and `=` itself) is written
 * `=XX` (UTF-8, hex upper case), an empty segment (a leading `/`, `//`) is `=`, and the segments
 * `.` / `..` are `=2E` / `=2E=2E`. `src/app.ts` → `files/src/app.ts`; `/tmp/a b` → `files/=/tmp/a=20b`.
 */
export function pathToResource(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidKeyError('paths[]', path, 'expected a non-empty path');
  const segments = path.split('/').map((seg) => {
    if (seg === '') return '=';
    if (seg === '.' || seg === '..') return seg.replace(/\./g, '=2E');
    let out = '';
    for (const ch of seg) {
      if (SAFE.test(ch)) out += ch;
      else for (const byte of Buffer.from(ch, 'utf8')) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  });
  return `${PATH_RESOURCE_PREFIX}/${segments.join('/')}`;
}

/** The inverse of {@link pathToResource}. */
export function resourceToPath(resource: string): string {
  if (!resource.startsWith(`${PATH_RESOURCE_PREFIX}/`)) throw new InvalidKeyError('resource', resource, `expected a resource under ${PATH_RESOURCE_PREFIX}/`);
  return resource
    .slice(PATH_RESOURCE_PREFIX.length + 1)
    .split('/')
    .map((seg) => {
      if (seg === '=') return '';
      const bytes: number[] = [];
      for (let i = 0; i < seg.length; ) {
        if (seg[i] === '=') {
          bytes.push(parseInt(seg.slice(i + 1, i + 3), 16));
          i += 3;
        } else {
          bytes.push(...Buffer.from(seg[i]!, 'utf8'));
          i++;
        }
      }
      return Buffer.from(bytes).toString('utf8');
    })
    .join('/');
}

/** One tool, built once per process: what `registerTool` takes. */
interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: z.AnyZodObject;
  callback: (args: Record<string, unknown>) => Promise<ToolResult>;
}

/** What every MCP server instance of one process shares: the store, the agents seen, the tool definitions. */
export class McpContext {
  readonly #seen = new Set<string>();
  /** The tool set, built once (schemas, descriptions, handlers); each server registers these. */
  readonly tools: readonly ToolDefinition[];
  constructor(readonly ops: Ops) {
    this.tools = defineTools(this);
  }

  /** Counts a call as `agentId`'s heartbeat; registers it (5-minute interval) when it is not registered. */
  async touch(agentId: string): Promise<void> {
    assertSegment(agentId, 'agent_id');
    const state = this.ops.state;
    if (!this.#seen.has(agentId)) {
      const known = (await state.agents.list()).some((a) => a.agentId === agentId);
      if (!known) {
        await state.agents.register(agentId, { via: 'mcp' }, { heartbeatIntervalMs: MCP_HEARTBEAT_INTERVAL_MS, registryTtlMs: MCP_REGISTRY_TTL_MS });
        this.#seen.add(agentId);
        return;
      }
      this.#seen.add(agentId);
    }
    await state.agents.heartbeat(agentId);
  }
}

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

function ok(value: unknown): ToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

function fail(error: unknown): ToolResult {
  const code = hasCode(error) ? error.code : 'INTERNAL';
  return { content: [{ type: 'text', text: JSON.stringify({ error: { code, message: (error as Error).message } }) }], isError: true };
}

const agentId = z.string().min(1).max(128).describe('your agent id (the call counts as your heartbeat)');
const queue = z.string().min(1).max(128).optional().describe('queue name, default "tasks"');
const json = z.any().describe('any JSON value');
const fence = z.object({ resource: z.string(), token: z.number().int(), owner: z.string() });
const ms = (what: string) => z.number().int().min(0).max(3_600_000).optional().describe(what);

/**
 * One JSON-schema validator for every MCP server of this process. Stateless `/mcp` builds a server
 * per request, and the SDK's default is a new Ajv per server (compiling its meta-schemas each
 * time: 5.5% of a loaded MCP profile); the validator only caches compiled schemas, so sharing it
 * changes nothing else.
 */
const sharedValidator = new AjvJsonSchemaValidator();

/** A new MCP server with the tool set, over `context`'s store (only the registrations are per server). */
export function createMcpServer(context: McpContext): McpServer {
  const server = new McpServer({ name: 'agent-state', version: '0.1.0' }, { jsonSchemaValidator: sharedValidator });
  const register = server.registerTool.bind(server) as (name: string, config: { description: string; inputSchema: z.AnyZodObject }, cb: ToolDefinition['callback']) => void;
  for (const t of context.tools) register(t.name, { description: t.description, inputSchema: t.inputSchema }, t.callback);
  return server;
}

/** The tool set of server.md over `context`'s store: schemas and handlers, built once. */
function defineTools(context: McpContext): ToolDefinition[] {
  const { ops } = context;
  const state = ops.state;
  const tools: ToolDefinition[] = [];

  const tool = <S extends z.ZodRawShape>(name: string, description: string, shape: S, run: (args: z.objectOutputType<S, z.ZodTypeAny> & { agent_id: string }) => Promise<unknown>) => {
    tools.push({
      name,
      description,
      inputSchema: z.object({ agent_id: agentId, ...shape }),
      callback: async (args) => {
        try {
          await context.touch(args['agent_id'] as string);
          return ok(await run(args as z.objectOutputType<S, z.ZodTypeAny> & { agent_id: string }));
        } catch (error) {
          return fail(error);
        }
      },
    });
  };

  tool('state_get', 'Read a key: its value and version, or null when absent.', { key: z.string().describe('key, e.g. tasks/42') }, async (a) => state.read(a.key));

  tool(
    'state_set',
    'Write a key. With if_version, only if the current version matches (CONFLICT otherwise); with fence, only while that lock is held.',
    {
      key: z.string(),
      value: json,
      if_version: z.union([z.number().int().min(1), z.literal('absent')]).optional().describe('expected version, or "absent"'),
      ttl_ms: ms('time to live'),
      fence: fence.optional().describe('a lock from lock_acquire'),
    },
    async (a) =>
      state.write(a.key, a.value as JsonValue, {
        ...(a.if_version !== undefined && { ifVersion: a.if_version }),
        ...(a.ttl_ms !== undefined && { ttlMs: a.ttl_ms }),
        ...(a.fence !== undefined && { fence: parseFence(a.fence, 'fence') }),
      }),
  );

  tool(
    'task_add',
    'Add a task to a queue; returns its id.',
    { queue, payload: json, priority: z.union([z.enum(['high', 'normal', 'low']), z.number().int()]).optional() },
    async (a) => state.queue(a.queue ?? 'tasks').enqueue(a.payload as JsonValue, a.priority === undefined ? undefined : { priority: a.priority }),
  );

  tool(
    'task_claim',
    'Claim the next task (one atomic claim: no other agent gets it while the lease runs). Returns null when none within wait_ms.',
    { queue, lease_ms: ms('lease length, default 60000'), wait_ms: ms(`wait for a task up to this long (max ${MAX_TOOL_WAIT_MS})`) },
    async (a) =>
      ops.claim(a.queue ?? 'tasks', {
        ...(a.lease_ms !== undefined && { leaseMs: a.lease_ms }),
        ...(a.wait_ms !== undefined && { waitMs: Math.min(a.wait_ms, MAX_TOOL_WAIT_MS) }),
      }),
  );

  tool(
    'task_done',
    'Finish a claimed task (ack), or give it back with failed: true (nack).',
    { queue, id: z.string(), lease_id: z.string(), failed: z.boolean().optional(), retry_after_ms: ms('with failed: visible again after this long') },
    async (a) => ({
      done: await ops.settle(a.queue ?? 'tasks', a.id, a.lease_id, a.failed ? { kind: 'nack', ...(a.retry_after_ms !== undefined && { delayMs: a.retry_after_ms }) } : { kind: 'ack' }),
    }),
  );

  tool(
    'lock_acquire',
    'Lock several files or resources at once, all or none (never overlapping another holder). Returns locks with fencing tokens.',
    {
      paths: z.array(z.string()).min(1).max(256).describe('file paths (mapped to resources files/<path>)'),
      ttl_ms: ms('lease length, default 30000'),
      wait_ms: ms('wait this long for busy locks, default 0'),
    },
    async (a) => {
      const resources = a.paths.map(pathToResource);
      const locks = await ops.lockMany(resources, { ...(a.ttl_ms !== undefined && { ttlMs: a.ttl_ms }), waitMs: Math.min(a.wait_ms ?? 0, MAX_TOOL_WAIT_MS) });
      return { locks: locks.map((l) => ({ path: resourceToPath(l.resource), ...l })) };
    },
  );

  tool(
    'lock_release',
    'Release locks from lock_acquire.',
    { locks: z.array(fence.passthrough()).min(1).max(256) },
    async (a) => {
      const released: string[] = [];
      const lost: string[] = [];
      for (const [i, l] of a.locks.entries()) {
        const f: Fence = parseFence(l, `locks[${i}]`);
        try {
          await ops.release(f);
          released.push(f.resource);
        } catch (error) {
          if (!hasCode(error, 'LOCK_LOST')) throw error;
          lost.push(f.resource);
        }
      }
      return { released, lost };
    },
  );

  tool(
    'message_send',
    'Send a message to an agent, or to "broadcast" (every registered agent).',
    { to: z.string(), message: json, priority: z.union([z.enum(['high', 'normal', 'low']), z.number().int()]).optional() },
    async (a) => ({ ids: await state.mailbox(a.agent_id).send(a.to, a.message as JsonValue, a.priority === undefined ? undefined : { priority: a.priority }) }),
  );

  tool(
    'inbox_check',
    'Read your waiting messages; they are acknowledged by this call.',
    { limit: z.number().int().min(1).max(1000).optional(), wait_ms: ms(`wait for a message up to this long (max ${MAX_TOOL_WAIT_MS})`) },
    async (a) => {
      const id = a.agent_id;
      const messages = await ops.receive(id, { ...(a.limit !== undefined && { limit: a.limit }), ...(a.wait_ms !== undefined && { waitMs: Math.min(a.wait_ms, MAX_TOOL_WAIT_MS) }) });
      if (messages.length > 0) await ops.ack(id, messages.map((m: { id: string }) => m.id));
      return { messages: messages.map((m: { id: string; from: string; message: JsonValue; priority: number; sentAt: number }) => ({ from: m.from, message: m.message, priority: m.priority, sentAt: m.sentAt })) };
    },
  );

  tool('agents_list', 'Registered agents with status (healthy, unhealthy, missing) and last heartbeat.', {}, async () => ({
    agents: (await state.agents.list()).map((a) => ({ agentId: a.agentId, status: a.status, lastHeartbeat: a.lastHeartbeat, info: a.info })),
  }));

  return tools;
}

/**
 * The headers the SDK's stateless POST handling reads (content negotiation, protocol version,
 * session). The token and the Host were checked by the server already; the tools read no header.
 */
const MCP_HEADERS = ['accept', 'content-type', 'mcp-protocol-version', 'mcp-session-id'] as const;

/** The Fastify request as a web `Request`: URL and the headers the SDK reads (the body is already parsed). */
function webRequest(req: FastifyRequest): Request {
  const headers = new Headers();
  for (const name of MCP_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.raw.url ?? '/mcp'}`, { method: req.method, headers });
}

/** Serves one `/mcp` request (stateless streamable HTTP: JSON responses, no session). */
export async function handleMcpHttp(context: McpContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (req.method !== 'POST') {
    await reply.status(405).header('allow', 'POST').send({ error: { code: 'NOT_SUPPORTED', message: 'stateless MCP: POST only' } });
    return;
  }
  const server = createMcpServer(context);
  // No sessionIdGenerator: stateless. JSON responses: the answer is one body, no stream.
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  // The client going away before the answer ends the server (and the transport with it). Once the
  // answer is there both hold nothing (no timer, no stream) and are left to the GC: closing them
  // only builds a "Connection closed" error per request.
  const close = () => void server.close().catch(() => undefined);
  reply.raw.once('close', close);
  let response: Response;
  try {
    await server.connect(transport);
    response = await transport.handleRequest(webRequest(req), { parsedBody: req.body });
  } catch (error) {
    reply.raw.off('close', close);
    close();
    throw error;
  }
  reply.raw.off('close', close);
  const text = await response.text();
  reply.status(response.status);
  response.headers.forEach((value, name) => void reply.header(name, value));
  await reply.send(text);
}
