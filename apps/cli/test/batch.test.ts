import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch } from '../src/commands/batch/index.js';
import type { CommandContext } from '../src/context.js';
import { makeProject, type Project } from './helpers.js';

const lines = (...requests: unknown[]) => requests.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

describe('agent-state batch', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  it('answers one JSON line per request, in order, with errors inline and their exit codes', async () => {
    const result = await project.cli(['batch'], {
      stdin: lines(
        { op: 'set', key: 'a', value: { n: 1 }, id: 1 },
        { op: 'get', key: 'a', id: 2 },
        { op: 'get', key: 'missing' },
        { op: 'incr', key: 'c', by: 5 },
        { op: 'update', key: 'c', expr: 'value * 2' },
        { op: 'set', key: 'a', value: 2, ifVersion: 7 },
        { op: 'get', key: 'bad//key' },
        'not json',
        { op: 'nope' },
        { op: 'list', prefix: '' },
      ),
    });
    expect(result.code).toBe(0);
    const out = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(10);
    expect(out[0]).toMatchObject({ id: 1, ok: true, result: { key: 'a', value: { n: 1 }, version: 1 } });
    expect(out[1]).toMatchObject({ id: 2, ok: true, result: { value: { n: 1 } } });
    expect(out[2]).toEqual({ ok: true, result: null });
    expect(out[3]).toEqual({ ok: true, result: 5 });
    expect(out[4]).toMatchObject({ ok: true, result: { value: 10 } });
    expect(out[5]).toMatchObject({ ok: false, code: 'CONFLICT', exit: 13 });
    expect(out[6]).toMatchObject({ ok: false, code: 'INVALID_KEY', exit: 10 });
    expect(out[7]).toMatchObject({ ok: false, code: 'USAGE', exit: 2 });
    expect(out[8]).toMatchObject({ ok: false, code: 'USAGE', exit: 2 });
    expect(out[9].result.map((e: { key: string }) => e.key)).toEqual(['a', 'c']);
  });

  it('holds a lock across lines, fences writes with it, and releases it when input ends', async () => {
    const result = await project.cli(['batch'], {
      stdin: lines(
        { op: 'lock', resource: 'r', ttlMs: 5000 },
        { op: 'set', key: 'k', value: 1, fence: 'r' },
        { op: 'tx.begin' },
      ),
    });
    const out = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out[0]).toMatchObject({ ok: true, result: { resource: 'r', token: 1 } });
    expect(out[1]).toMatchObject({ ok: true, result: { value: 1 } });
    expect((await project.cli(['lock', '--wait', '0', 'r', '--', 'true'])).code).toBe(0); // released at EOF
  });

  it('runs a transaction and queue round trip inside one process', async () => {
    const begin = JSON.parse((await project.cli(['batch'], { stdin: lines({ op: 'tx.begin' }) })).stdout).result as string;
    const result = await project.cli(['batch'], {
      stdin: lines(
        { op: 'tx.read', tx: begin, key: 'x' },
        { op: 'tx.write', tx: begin, key: 'x', value: 'y' },
        { op: 'tx.commit', tx: begin },
        { op: 'queue.push', queue: 'q', payload: 'job', priority: 'high' },
        { op: 'queue.pop', queue: 'q' },
      ),
    });
    const out = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.slice(0, 3).map((o) => o.ok)).toEqual([true, true, true]);
    expect(out[4]).toMatchObject({ ok: true, result: { payload: 'job', attempts: 1 } });
    const ack = await project.cli(['batch'], { stdin: lines({ op: 'queue.ack', queue: 'q', jobId: out[4].result.id, leaseId: out[4].result.leaseId }) });
    expect(JSON.parse(ack.stdout)).toEqual({ ok: true, result: true });
    expect((await project.cli(['get', 'x'])).stdout).toBe('"y"\n');
  });
});

describe('batch as a bash coprocess', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  it('answers each request as soon as it is written, so a loop pays one process start', async () => {
    const result = await project.bash(`
      coproc AS { "\${_AGENT_STATE_CMD[@]}" batch; }
      for i in $(seq 50); do
        echo '{"op":"incr","key":"loop"}' >&"\${AS[1]}"
        IFS= read -r reply <&"\${AS[0]}"
      done
      echo "$reply"
      exec {AS[1]}>&-
      wait "$AS_PID"; echo "exit=$?"`);
    expect(result.stdout).toBe('{"ok":true,"result":50}\nexit=0\n');
  });
});

describe('batch called directly (changesets style: the command function with a cwd)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-state-cli-memory-'));
    writeFileSync(join(dir, 'project.yml'), 'communication:\n  backend: memory\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs against the memory backend and writes one result per request', async () => {
    let out = '';
    const ctx: CommandContext = {
      cwd: dir,
      env: {},
      stdout: (t) => (out += t),
      stderr: () => undefined,
      stdin: Readable.from([lines({ op: 'incr', key: 'n' }, { op: 'incr', key: 'n', by: 2 }, { op: 'get', key: 'n' })]),
    };
    await batch(ctx);
    const results = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(results.map((r) => r.result?.value ?? r.result)).toEqual([1, 3, 3]);
  });
});
