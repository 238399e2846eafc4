import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

describe('storage commands from the binary', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  it('set then get round-trips a JSON value; --json prints the entry with its version', async () => {
    expect(await project.cli(['set', 'tasks/42', '{"status":"assigned","n":[1,2]}'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await project.cli(['get', 'tasks/42'])).stdout).toBe('{"status":"assigned","n":[1,2]}\n');
    const entry = JSON.parse((await project.cli(['get', 'tasks/42', '--json'])).stdout);
    expect(entry).toMatchObject({ key: 'tasks/42', value: { status: 'assigned', n: [1, 2] }, version: 1 });
  });

  it('--string stores text literally, - reads stdin, --raw prints a string without quotes', async () => {
    await project.cli(['set', '--string', 'note', '-'], { stdin: 'line one\n"two"\n' });
    expect((await project.cli(['get', 'note'])).stdout).toBe('"line one\\n\\"two\\""\n');
    expect((await project.cli(['get', 'note', '--raw'])).stdout).toBe('line one\n"two"\n');
    await project.cli(['set', 'n', '-'], { stdin: '[1, 2]' });
    expect((await project.cli(['get', 'n', '--raw'])).stdout).toBe('[1,2]\n');
  });

  it('--if-version is a compare-and-set: the right version writes, a stale one is CONFLICT', async () => {
    expect((await project.cli(['set', 'k', '1', '--if-version', 'absent'])).code).toBe(0);
    expect((await project.cli(['set', 'k', '2', '--if-version', 'absent'])).code).toBe(13);
    expect((await project.cli(['set', 'k', '2', '--if-version', '1', '--json'])).stdout).toMatch(/"version":2/);
    expect((await project.cli(['update', 'k', '3', '--if-version', '1'])).code).toBe(13);
    expect((await project.cli(['update', 'k', '-', '--if-version', '2'], { stdin: '30' })).stdout).toBe('30\n');
  });

  it('update --expr applies a JS expression over value (null when absent) with --arg strings', async () => {
    expect((await project.cli(['update', 'c', '--expr', '(value ?? 0) + 5'])).stdout).toBe('5\n');
    expect((await project.cli(['update', 'c', '-e', 'value * 2'])).stdout).toBe('10\n');
    const r = await project.cli(['update', 'm', '-e', '({...value, [args.k]: args.v})', '-a', "k=it's", '-a', 'v=a "quoted" = value']);
    expect(JSON.parse(r.stdout)).toEqual({ "it's": 'a "quoted" = value' });
    const bad = await project.cli(['update', 'c', '-e', 'value.nope.deeper']);
    expect(bad.code).toBe(11);
    expect((await project.cli(['get', 'c'])).stdout).toBe('10\n');
  });

  it('incr adds atomically (absent = 0) and refuses a non-number', async () => {
    expect((await project.cli(['incr', 'hits'])).stdout).toBe('1\n');
    expect((await project.cli(['incr', 'hits', '41'])).stdout).toBe('42\n');
    expect((await project.cli(['incr', 'hits', '-2.5'])).stdout).toBe('39.5\n');
    await project.cli(['set', 'word', '"x"']);
    expect((await project.cli(['incr', 'word'])).code).toBe(11);
  });

  it('list prints one JSON line per entry in key order under a prefix; --keys only keys', async () => {
    for (const k of ['b/2', 'a/1', 'b/1', 'c']) await project.cli(['set', k, JSON.stringify(k)]);
    expect((await project.cli(['list', 'b/', '--keys'])).stdout).toBe('b/1\nb/2\n');
    const lines = (await project.cli(['list'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => e.key)).toEqual(['a/1', 'b/1', 'b/2', 'c']);
    expect((await project.cli(['list', '--limit', '1', '--after', 'a/1', '--keys'])).stdout).toBe('b/1\n');
  });

  it('delete removes a key and is idempotent; --ttl makes a key read as absent after it', async () => {
    await project.cli(['set', 'k', '1']);
    expect((await project.cli(['delete', 'k', '--json'])).stdout).toBe('{"deleted":true}\n');
    expect((await project.cli(['delete', 'k', '--json'])).stdout).toBe('{"deleted":false}\n');
    await project.cli(['set', 'short', '1', '--ttl', '200ms']);
    await new Promise((r) => setTimeout(r, 400));
    expect((await project.cli(['get', 'short'])).code).toBe(1);
  });

  it('health prints the report with the namespace and a store id', async () => {
    const report = JSON.parse((await project.cli(['health'])).stdout);
    expect(report).toMatchObject({ ok: true, backend: 'file', namespace: 'cli-test' });
    expect(report.storeId).toMatch(/^[0-9a-f]{12}$/);
  });
});
