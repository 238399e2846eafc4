import { execFile } from 'node:child_process';
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
      expect(report.totals.assignment.p99).toBeGreaterThanOrEqual(0);
    }, 180_000);
  }
});
