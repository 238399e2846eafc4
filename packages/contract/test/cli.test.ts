import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/agent-state-contract.mjs', import.meta.url));
const broken = fileURLToPath(new URL('./fixtures/restarting-versions-backend.mjs', import.meta.url));

/** Runs the committed bin (it needs dist/: turbo builds it before this test); bounded by a deadline. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 120_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const contractDirs = (parent: string) => readdirSync(parent).filter((n) => n.startsWith('agent-state-contract-'));

describe('agent-state-contract', () => {
  it('prints a green conformance table for --backend file and exits 0', async () => {
    expect(existsSync(new URL('../dist/bin.js', import.meta.url)), 'build @agent-state/contract first').toBe(true);
    const parent = mkdtempSync(join(tmpdir(), 'contract-cli-'));
    try {
      const result = await run(['--backend', 'file', '--only', 'round-trip,versions', '--only', 'unavailable', '--quiet'], { TMPDIR: parent });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^group\s+kind\s+passed\s+failed\s+skipped\s+result$/m);
      expect(result.stdout).toMatch(/^round-trip\s+required\s+\d+\s+0\s+0\s+ok$/m);
      expect(result.stdout).toMatch(/^versions\s+required\s+\d+\s+0\s+0\s+ok$/m);
      expect(result.stdout).toMatch(/^unavailable\s+required\s+1\s+0\s+0\s+ok$/m);
      // The versions group's other-process test ran: file is multi-process.
      expect(result.stdout).toMatch(/^multi-process\s+required\s+[1-9]\d*\s+0\s+0\s+ok$/m);
      expect(result.stdout).toContain('conformant: every required group passed');
      // Every test's temp store was removed.
      expect(contractDirs(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('exits 1 and names the failing test for a backend module whose versions restart', async () => {
    const result = await run(['--backend', broken, '--only', 'versions', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; groups: { name: string; failures: { test: string }[] }[] };
    expect(report.ok).toBe(false);
    const versions = report.groups.find((g) => g.name === 'versions')!;
    expect(versions.failures.map((f) => f.test)).toContain('a key deleted and created again gets a version above every earlier one: the stale CAS fails');
  });

  it('refuses bad usage before any I/O, naming the option and value (exit 2)', async () => {
    const noGroup = await run(['--backend', 'memory', '--only', 'nope']);
    expect(noGroup.code).toBe(2);
    expect(noGroup.stderr).toContain('--only "nope": no such group');
    const noModule = await run(['--backend', './does-not-exist.mjs']);
    expect(noModule.code).toBe(2);
    expect(noModule.stderr).toMatch(/--backend.*does-not-exist\.mjs/);
    const dir = mkdtempSync(join(tmpdir(), 'contract-cli-'));
    try {
      const config = join(dir, 'project.yml');
      writeFileSync(config, 'communication:\n  settings:\n    connect_timeout_ms: soon\n');
      const badSetting = await run(['--backend', 'memory', '--config', config]);
      expect(badSetting.code).toBe(2);
      expect(badSetting.stderr).toMatch(/connect_timeout_ms/);
      const firebase = await run(['--backend', 'firebase']);
      expect(firebase.code).toBe(2);
      expect(firebase.stderr).toContain('emulator_host');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: agent-state-contract --backend <module>');
  });
});
