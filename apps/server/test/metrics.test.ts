/** `GET /metrics`: prom-client text with the HTTP series and core's per-operation metrics. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { serve } from '../src/serve.js';

describe('GET /metrics', () => {
  it('exports op calls, errors by code, the op latency histogram, lock and queue counters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-state-metrics-'));
    writeFileSync(join(dir, 'project.yml'), `communication:\n  backend: sqlite\n  namespace: m-${randomBytes(4).toString('hex')}\n  settings:\n    database_path: ./state.db\n`);
    const lines: string[] = [];
    const server = await serve({ cwd: dir, env: { AGENT_STATE_TOKEN: 'secret-token-0123456789' }, port: 0, out: (l) => lines.push(l), err: () => undefined });
    try {
      expect(lines).toContain(`agent-state serve: dashboard ${server.url}/?token=secret-token-0123456789`);
      const h = { authorization: 'Bearer secret-token-0123456789', 'content-type': 'application/json' };
      await fetch(`${server.url}/v1/keys/tasks/1`, { method: 'PUT', headers: h, body: JSON.stringify({ value: 1 }) });
      expect((await fetch(`${server.url}/v1/keys/tasks/1`, { method: 'PUT', headers: h, body: JSON.stringify({ value: 2, ifVersion: 9 }) })).status).toBe(409);
      const lease = (await (await fetch(`${server.url}/v1/locks/files/a`, { method: 'POST', headers: h, body: '{}' })).json()) as { token: number; owner: string };
      expect((await fetch(`${server.url}/v1/locks/files/a`, { method: 'POST', headers: h, body: JSON.stringify({ waitMs: 0 }) })).status).toBe(408);
      await fetch(`${server.url}/v1/locks/files/a`, { method: 'DELETE', headers: h, body: JSON.stringify({ token: lease.token, owner: lease.owner }) });
      await fetch(`${server.url}/v1/queues/jobs/jobs`, { method: 'POST', headers: h, body: JSON.stringify({ payload: 1 }) });
      const res = await fetch(`${server.url}/metrics`, { headers: h });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(/agent_state_op_calls_total\{backend="sqlite",op="write"\} 2/);
      expect(text).toMatch(/agent_state_op_errors_total\{backend="sqlite",op="write",code="CONFLICT"\} 1/);
      expect(text).toMatch(/agent_state_op_duration_ms_bucket\{backend="sqlite",op="write",le="\+Inf"\} 2/);
      expect(text).toMatch(/agent_state_lock_events_total\{prefix="files",event="acquired"\} 1/);
      expect(text).toMatch(/agent_state_lock_events_total\{prefix="files",event="contended"\} [1-9]/);
      expect(text).toMatch(/agent_state_lock_events_total\{prefix="files",event="released"\} 1/);
      expect(text).toMatch(/agent_state_http_requests_total\{method="PUT",route="\/v1\/keys\/\*",status="409"\} 1/);
      expect(text).toMatch(/agent_state_locks_held 0/);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
