import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openState, type StateClient } from '@agent-state/core';

/** Temp directories made by a test file, removed by {@link removeTempDirs}. */
const made: string[] = [];

/** A fresh empty directory under the OS temp dir. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-state-file-test-'));
  made.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Opens a file-backend client on `directory`. */
export function openFile(directory: string, settings: Record<string, unknown> = {}, namespace = 'ns'): Promise<StateClient> {
  return openState({ config: { backend: 'file', namespace, settings: { directory, ...settings } }, env: {} });
}

/** The pid of a process that has exited (and been reaped): a holder that is provably dead. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}
