/**
 * MCP through the SDK's own client: over stdio (`child.js mcp`, what `agent-state mcp` runs) and
 * over streamable HTTP (`/mcp` with the same token). Exactly the tool set of server.md.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathToResource, resourceToPath } from '../src/mcp.js';
import { CHILD, makeProject, startServer, type ServerProcess, type TestProject } from './helpers.js';

const TOOLS = [
  'agents_list',
  'inbox_check',
  'lock_acquire',
  'lock_release',
  'message_send',
  'state_get',
  'state_set',
  'task_add',
  'task_claim',
  'task_done',
];

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ isError: boolean; value: any }> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: { type: string; text: string }[] };
  return { isError: result.isError === true, value: JSON.parse(result.content[0]!.text) };
}

/** The same scenario over either transport. */
async function scenario(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
  for (const t of tools) {
    expect(t.description!.split('\n').length).toBeLessThanOrEqual(2);
    expect((t.inputSchema as { required?: string[] }).required).toContain('agent_id');
  }
  // Keys and CAS
  const set = await call(client, 'state_set', { agent_id: 'agent-a', key: 'notes/x', value: { hello: 1 } });
  expect(set.value).toMatchObject({ key: 'notes/x', version: expect.any(Number) });
  const stale = await call(client, 'state_set', { agent_id: 'agent-a', key: 'notes/x', value: 2, if_version: set.value.version + 9 });
  expect(stale.isError).toBe(true);
  expect(stale.value.error.code).toBe('CONFLICT');
  expect((await call(client, 'state_get', { agent_id: 'agent-a', key: 'notes/x' })).value.value).toEqual({ hello: 1 });
  expect((await call(client, 'state_get', { agent_id: 'agent-a', key: 'notes/none' })).value).toBeNull();
  const hostile = await call(client, 'state_set', { agent_id: 'agent-a', key: '../x', value: 1 });
  expect(hostile.value.error.code).toBe('INVALID_KEY');
  // Tasks
  const added = await call(client, 'task_add', { agent_id: 'agent-a', payload: { do: 'build' } });
  const claimed = await call(client, 'task_claim', { agent_id: 'agent-b', wait_ms: 5_000 });
  expect(claimed.value).toMatchObject({ id: added.value.id, payload: { do: 'build' } });
  expect((await call(client, 'task_claim', { agent_id: 'agent-b' })).value).toBeNull();
  expect((await call(client, 'task_done', { agent_id: 'agent-b', id: claimed.value.id, lease_id: claimed.value.leaseId, failed: true })).value).toEqual({ done: true });
  const again = await call(client, 'task_claim', { agent_id: 'agent-b' });
  expect(again.value.attempts).toBe(2);
  expect((await call(client, 'task_done', { agent_id: 'agent-b', id: again.value.id, lease_id: again.value.leaseId })).value).toEqual({ done: true });
  // Locks: all or none; fencing token usable as fence
  const locked = await call(client, 'lock_acquire', { agent_id: 'agent-a', paths: ['src/app.ts', 'src/lib util.ts'] });
  expect(locked.value.locks.map((l: { path: string }) => l.path).sort()).toEqual(['src/app.ts', 'src/lib util.ts']);
  const overlap = await call(client, 'lock_acquire', { agent_id: 'agent-b', paths: ['src/app.ts', 'README.md'] });
  expect(overlap.isError).toBe(true);
  expect(overlap.value.error.code).toBe('LOCK_TIMEOUT');
  const readme = await call(client, 'lock_acquire', { agent_id: 'agent-b', paths: ['README.md'] });
  expect(readme.isError).toBe(false);
  const fenced = await call(client, 'state_set', { agent_id: 'agent-a', key: 'files/owner', value: 'a', fence: locked.value.locks[0] });
  expect(fenced.isError).toBe(false);
  const released = await call(client, 'lock_release', { agent_id: 'agent-a', locks: locked.value.locks });
  expect(released.value.released).toHaveLength(2);
  expect((await call(client, 'lock_release', { agent_id: 'agent-a', locks: locked.value.locks })).value.lost).toHaveLength(2);
  await call(client, 'lock_release', { agent_id: 'agent-b', locks: readme.value.locks });
  // Messages: inbox_check reads and acks in one call
  await call(client, 'message_send', { agent_id: 'agent-a', to: 'agent-b', message: 'review PR 7' });
  const inbox = await call(client, 'inbox_check', { agent_id: 'agent-b' });
  expect(inbox.value.messages).toEqual([expect.objectContaining({ from: 'agent-a', message: 'review PR 7' })]);
  expect((await call(client, 'inbox_check', { agent_id: 'agent-b' })).value.messages).toEqual([]);
  // Every call registered its agent (5-minute interval) and counts as a heartbeat
  const agents = (await call(client, 'agents_list', { agent_id: 'agent-c' })).value.agents;
  expect(agents.map((a: { agentId: string }) => a.agentId).sort()).toEqual(['agent-a', 'agent-b', 'agent-c']);
  expect(agents.every((a: { status: string }) => a.status === 'healthy')).toBe(true);
  const bad = await call(client, 'agents_list', { agent_id: 'no/slash' });
  expect(bad.value.error.code).toBe('INVALID_KEY');
}

describe('path encoding', () => {
  it('maps paths to resource keys reversibly', () => {
    for (const p of ['src/app.ts', '/abs/path//x', 'a b/ü/=/..', '.', 'C:\\dir\\f', '@x/+,:']) {
      const r = pathToResource(p);
      expect(r.startsWith('files/')).toBe(true);
      expect(resourceToPath(r)).toBe(p);
    }
    expect(pathToResource('src/app.ts')).toBe('files/src/app.ts');
    expect(pathToResource('/tmp/a b')).toBe('files/=/tmp/a=20b');
  });
});

describe('MCP over stdio', () => {
  let project: TestProject;
  beforeAll(() => {
    project = makeProject('sqlite');
  });
  afterAll(async () => project?.cleanup());

  it('serves the tool set through the SDK client', async () => {
    const env = { ...(process.env as Record<string, string>) };
    delete env['COMMUNICATION_BACKEND'];
    const transport = new StdioClientTransport({ command: process.execPath, args: [CHILD, 'mcp', JSON.stringify({ configFile: join(project.dir, 'project.yml') })], env, stderr: 'pipe' });
    const client = new Client({ name: 'test', version: '0.0.0' });
    await client.connect(transport);
    try {
      await scenario(client);
    } finally {
      await client.close();
    }
  });
});

describe('MCP over streamable HTTP', () => {
  let project: TestProject;
  let server: ServerProcess;
  beforeAll(async () => {
    project = makeProject('file');
    server = await startServer(project);
  });
  afterAll(async () => {
    await server?.stop();
    await project?.cleanup();
  });

  it('serves the tool set with the same token; no token is 401', async () => {
    const client = new Client({ name: 'test', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } }));
    try {
      await scenario(client);
    } finally {
      await client.close();
    }
    const anonymous = new Client({ name: 'test', version: '0.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))).rejects.toThrow();
  });
});
