import { spawn, spawnSync } from 'node:child_process';
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

const packageDir = join(import.meta.dirname, '..');

/** Runs an ES module script in a new node process (cwd: this package, so '@agent-state/core' resolves). */
export function runNode(script: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** The script prelude that opens the file store at `directory` as `state` (namespace ns). */
export function openScript(directory: string, settings: Record<string, unknown> = {}): string {
  return `
    import { existsSync } from 'node:fs';
    import { openState } from '@agent-state/core';
    const state = await openState({ config: { backend: 'file', namespace: 'ns', settings: ${JSON.stringify({ directory, ...settings })} }, env: {} });
    const backend = state.backend;
    const waitFile = async (path) => {
      const deadline = Date.now() + 20_000;
      while (!existsSync(path)) {
        if (Date.now() > deadline) throw new Error('timed out waiting for ' + path);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
  `;
}

/** Polls `predicate` every 10 ms for up to 20 s. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
