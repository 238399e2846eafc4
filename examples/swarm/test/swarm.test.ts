import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const swarm = join(import.meta.dirname, '..', 'swarm.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const STORES: Record<string, (dir: string) => string> = {
  file: (dir) => `backend: file\n  settings:\n    directory: ${join(dir, 'store')}\n    durability: none`,
  sqlite: (dir) => `backend: sqlite\n  settings:\n    database_path: ${join(dir, 'state.db')}`,
};

describe('the swarm command line', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, [swarm, '--help'], { timeout: 30_000 });
    expect(stdout).toMatch(/^Usage: node swarm\.mjs/);
    expect(stdout).toContain('--agents N');
    expect(stderr).toBe('');
  });

  it.each([
    [['--bogus'], /^swarm: Unknown option '--bogus'/],
    [['--agents', 'many'], /^swarm: --agents must be a whole number from 1 to 500, got "many"/],
  ])('%j prints one line and the usage on stderr, exit 2, no stack trace', async (args, first) => {
    const error = await run(process.execPath, [swarm, ...args], { timeout: 30_000 }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(error?.code).toBe(2);
    const lines = error!.stderr.split('\n');
    expect(lines[0]).toMatch(first);
    expect(lines[1]).toBe('');
    expect(lines[2]).toMatch(/^Usage: node swarm\.mjs/);
    expect(error!.stderr).not.toMatch(/\n\s+at /);
    expect(error!.stdout).toBe('');
  });
});

describe('the swarm example', () => {
  for (const [backend, block] of Object.entries(STORES)) {
    it(`a coordinator and 8 agent processes run 2 cycles on ${backend} and nothing is lost`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `agent-state-swarm-${backend}-`));
      dirs.push(dir);
      const config = join(dir, 'project.yml');
      writeFileSync(config, `communication:\n  namespace: swarm-test\n  ${block(dir)}\n`);
      const { stdout } = await run(process.execPath, [swarm, '--agents', '8', '--cycles', '2', '--interval', '100', '--json', '--config', config], {
        env: { ...process.env, COMMUNICATION_BACKEND: '' },
        timeout: 120_000,
      });
      const report = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(report.problems).toEqual([]);
      expect(report.backend).toBe(backend);
      expect(report.perCycle.map((c: { results: number }) => c.results)).toEqual([8, 8]);
      // Latencies of a run that finished: ordered (p50 <= p99 <= max) and within the run's time.
      for (const kind of ['assignment', 'lock', 'delivery'] as const) {
        const t = report.totals[kind] as { p50: number; p99: number; max: number };
        expect(Number.isFinite(t.p50) && t.p50 >= 0, `${kind} p50 ${t.p50}`).toBe(true);
        expect(t.p50).toBeLessThanOrEqual(t.p99);
        expect(t.p99).toBeLessThanOrEqual(t.max);
        expect(t.max).toBeLessThan(120_000);
      }
      // Where the time goes: each agent's CPU per task (cycle 2 on) and the cycle's CPU floor.
      expect(report.cpu.agentCpuMsPerTask).toBeGreaterThan(0);
      expect(report.cpu.cycleCpuFloorMs).toBeGreaterThanOrEqual((report.cpu.agentCpuMsPerTask * 8) / report.cpu.cores - 0.1);
    }, 180_000);
  }

  it('agents stop on their own when the coordinator is killed (they never outlive it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-state-swarm-kill-'));
    dirs.push(dir);
    const config = join(dir, 'project.yml');
    writeFileSync(config, `communication:\n  namespace: swarm-kill\n  ${STORES['sqlite']!(dir)}\n`);
    const coordinator = spawn(process.execPath, [swarm, '--agents', '3', '--cycles', '10000', '--interval', '200', '--config', config], {
      env: { ...process.env, COMMUNICATION_BACKEND: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const agents: number[] = [];
    try {
      // Wait for the first cycle line: every agent is up and working by then.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the swarm printed no cycle within 60 s')), 60_000);
        let out = '';
        coordinator.stdout!.on('data', (chunk: Buffer) => {
          out += String(chunk);
          if (/^cycle 1:/m.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        coordinator.once('exit', (code) => reject(new Error(`the coordinator exited (${code}) early: ${out}`)));
      });
      agents.push(...execFileSync('pgrep', ['-P', String(coordinator.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number));
      expect(agents).toHaveLength(3);
      coordinator.kill('SIGKILL');
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 30_000;
      while (agents.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(agents.filter(alive)).toEqual([]);
    } finally {
      coordinator.kill('SIGKILL');
      for (const pid of agents) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 120_000);
});
