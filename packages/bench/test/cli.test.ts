import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/agent-state-bench.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/bin.js', import.meta.url)));

/** Runs the bench bin; resolves with its exit code and output (never throws on a non-zero exit). */
async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!built && process.env['CI'] !== 'true')('the agent-state-bench command line', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await bench(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: agent-state-bench \[options\]/);
    expect(r.stdout).toContain('--swarm <counts>');
  });

  it.each([
    [['--bogus'], "agent-state-bench: unknown option '--bogus'"],
    [['--backends', 'nope'], 'agent-state-bench: option \'--backends <list>\' argument \'nope\' is invalid. unknown backend "nope"'],
  ])('%j prints one line and the usage on stderr, exit 2, no stack trace', async (args, first) => {
    const r = await bench(args);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toContain(first);
    expect(lines[1]).toBe('');
    expect(lines[2]).toMatch(/^Usage: agent-state-bench/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('an unknown workload id is a usage error before anything runs', async () => {
    const r = await bench(['--backends', 'memory', '--workloads', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^agent-state-bench: unknown workload "nope" \(expected some of ycsb-a, .*\)\n\nUsage: /);
    expect(r.stdout).toBe('');
  });

  it('--extra loads workloads and subjects from a module, measured and reported like the built-in ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-extra-'));
    try {
      const module = join(dir, 'extra.mjs');
      writeFileSync(
        module,
        `export const workloads = [{
          id: 'extra-echo', title: 'echo', description: 'one awaited no-op', needs: ['read'],
          axis: () => ({ inflight: 1, processes: 1 }),
          async prepare(subject) { return { op: () => subject.read('k') }; },
        }];
        export const subjects = { memory: [{
          id: 'echo', kind: 'peer', label: 'a subject from a module', capabilities: ['read'], only: ['extra-echo'],
          async open() { return { read: async () => 1, close: async () => undefined }; },
        }] };\n`,
      );
      const out = join(dir, 'out');
      const r = await bench(['--backends', 'memory', '--quick', '--workloads', 'extra-echo', '--extra', module, '--json', '--out', out]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cases: { workload: string; subject: string; status: string }[] };
      expect(report.cases.map((c) => `${c.workload}/${c.subject}/${c.status}`).sort()).toEqual(['extra-echo/echo/ok', 'extra-echo/ours/ok']);
      const bad = await bench(['--backends', 'memory', '--extra', join(dir, 'missing.mjs')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
