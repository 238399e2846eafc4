/**
 * `agent-state serve` and `agent-state mcp` through the real bin: the ready line, a request with
 * the generated 0600 token, SIGTERM → exit 0; the MCP tool set over stdio with the SDK client.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, makeProject, type Project } from './helpers.js';

let project: Project | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

describe('agent-state serve', () => {
  it('prints the ready line, answers with the generated token, stops on SIGTERM with exit 0', async () => {
    project = makeProject('sqlite');
    const env = { ...process.env };
    delete env['AGENT_STATE_TOKEN'];
    delete env['COMMUNICATION_BACKEND'];
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 20_000;
      while (!/listening on (http:\/\/127\.0\.0\.1:\d+) \(backend sqlite, namespace cli-test\)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url, out).toBeDefined();
      const tokenFile = join(project.dir, '.agent-state/serve.token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      const put = await fetch(`${url}/v1/keys/a/b`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"value":1}' });
      expect(put.status).toBe(200);
      expect((await fetch(`${url}/v1/keys/a/b`)).status).toBe(401);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      proc.kill('SIGKILL');
    }
    // The write went to the project's store.
    expect(JSON.parse((await project.cli(['get', 'a/b'])).stdout)).toBe(1);
  });

  it('agent-state mcp serves the tool set over stdio', async () => {
    project = makeProject('file');
    const env = { ...(process.env as Record<string, string>) };
    delete env['COMMUNICATION_BACKEND'];
    const client = new Client({ name: 'test', version: '0.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], cwd: project.dir, env, stderr: 'pipe' }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['agents_list', 'inbox_check', 'lock_acquire', 'lock_release', 'message_send', 'state_get', 'state_set', 'task_add', 'task_claim', 'task_done']);
      await client.callTool({ name: 'message_send', arguments: { agent_id: 'lead', to: 'worker-1', message: 'hello' } });
    } finally {
      await client.close();
    }
    // What MCP sent, the hook command reads.
    const inbox = await project.cli(['inbox', 'worker-1']);
    expect(inbox.stdout).toMatch(/^message from lead \(.+\): hello\n$/);
  });
});
