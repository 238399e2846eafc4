/**
 * The migration fence (issue 14 item 5): while a migration copies a store its clients refuse
 * writes with MIGRATING (reads still work), and after --switch a client still on the old
 * backend is refused instead of writing where nobody reads. Tested with a real writer process
 * running through a real migration.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ACTIVE_MARKER_KEY, SWITCHED_MARKER_KEY, openState } from '@agent-state/core';
import { spawnBin } from './helpers/bin.js';

const WRITER = fileURLToPath(new URL('./fixtures/fence-writer.mjs', import.meta.url));

function project(): { cwd: string; file: Record<string, unknown>; sqlite: Record<string, unknown> } {
  const cwd = mkdtempSync(join(tmpdir(), 'migrate-fence-'));
  const file = { directory: join(cwd, 'files'), durability: 'none', backup_count: 0 };
  const sqlite = { database_path: join(cwd, 'state.db') };
  writeFileSync(join(cwd, 'project.yml'), stringify({ communication: { backend: 'file', namespace: 'fence', settings: { ...file, ...sqlite } } }));
  return { cwd, file, sqlite };
}

describe('migration fence', () => {
  it('a client refuses writes with MIGRATING while the migration marker is set, and reads still work', async () => {
    const { cwd } = project();
    try {
      const tool = await openState({ cwd, migrationFence: false });
      const agent = await openState({ cwd });
      try {
        await agent.write('k', 1);
        await tool.write(ACTIVE_MARKER_KEY, { to: 'sqlite:fence', startedAt: 1, runId: 'run-1' }, { ttlMs: 60_000 });
        await expect
          .poll(async () => agent.write('probe', 'x').then(() => 'written', (e: { code?: string }) => e.code), { timeout: 10_000, interval: 100 })
          .toBe('MIGRATING');
        await expect(agent.write('k', 2)).rejects.toMatchObject({ code: 'MIGRATING' });
        await expect(agent.delete('k')).rejects.toMatchObject({ code: 'MIGRATING' });
        await expect(agent.increment('n')).rejects.toMatchObject({ code: 'MIGRATING', message: expect.stringContaining('sqlite:fence') });
        expect((await agent.read('k'))?.value).toBe(1);
        await tool.delete(ACTIVE_MARKER_KEY);
        await expect.poll(async () => agent.write('k', 3).then(() => 'written', (e: { code?: string }) => e.code), { timeout: 10_000, interval: 100 }).toBe('written');
      } finally {
        await Promise.all([tool.close(), agent.close()]);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("with onMigration: 'wait' a write waits for the migration to end, then lands", async () => {
    const { cwd } = project();
    try {
      const tool = await openState({ cwd, migrationFence: false });
      await tool.write(ACTIVE_MARKER_KEY, { to: 'sqlite:fence', runId: 'run-2' }, { ttlMs: 60_000 });
      const agent = await openState({ cwd, onMigration: 'wait', migrationWaitMs: 20_000 });
      try {
        let landed = false;
        const write = agent.write('w', 'after').then((e) => ((landed = true), e));
        await new Promise((r) => setTimeout(r, 300));
        expect(landed).toBe(false);
        await tool.delete(ACTIVE_MARKER_KEY);
        expect((await write).value).toBe('after');
      } finally {
        await Promise.all([tool.close(), agent.close()]);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('a writer process running through a migration with --switch loses nothing and writes nothing to the old store after the copy', async () => {
    const { cwd, file, sqlite } = project();
    try {
      const writer = spawn(process.execPath, [WRITER, cwd, '50'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      writer.stderr.on('data', (d) => (stderr += String(d)));
      const lines: Record<string, unknown>[] = [];
      const started = new Promise<void>((resolve) => {
        createInterface({ input: writer.stdout }).on('line', (line) => {
          const m = JSON.parse(line) as Record<string, unknown>;
          lines.push(m);
          if (m['type'] === 'started') resolve();
        });
      });
      const exited = new Promise<number | null>((resolve) => writer.on('exit', (code) => resolve(code)));
      await started;
      await new Promise((r) => setTimeout(r, 300)); // some increments on the old store first
      const migration = spawnBin(['--from', 'file', '--to', 'sqlite', '--switch', '--json', '--no-progress'], cwd);
      const result = await migration.done;
      expect(result.code, result.stderr).toBe(0);
      expect(await exited, stderr).toBe(0);
      const done = lines.find((m) => m['type'] === 'done') as { total: number; byBackend: Record<string, number>; refusals: number; switchedSeen: boolean };
      expect(done.switchedSeen).toBe(true);
      expect(done.byBackend['sqlite']).toBeGreaterThanOrEqual(50);

      const oldStore = await openState({ config: { backend: 'file', namespace: 'fence', settings: file }, env: {}, migrationFence: false });
      const newStore = await openState({ config: { backend: 'sqlite', namespace: 'fence', settings: sqlite }, env: {} });
      try {
        // Every acknowledged increment is on the new store; the old one kept only what was copied.
        expect((await newStore.read('fence/counter'))?.value).toBe(done.total);
        expect((await oldStore.read('fence/counter'))?.value).toBe(done.byBackend['file']);
        expect((await oldStore.read(SWITCHED_MARKER_KEY))?.value).toMatchObject({ to: 'sqlite:fence' });
      } finally {
        await Promise.all([oldStore.close(), newStore.close()]);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
