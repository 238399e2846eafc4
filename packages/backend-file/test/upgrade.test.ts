import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidConfigError } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const packageDir = join(import.meta.dirname, '..');

/** Opens the store in a fresh process (so its stderr can be seen) and closes it. */
function openInChild(dir: string): { status: number | null; stderr: string } {
  const script = `
    import { openState } from '@agent-state/core';
    const state = await openState({ config: { backend: 'file', namespace: 'ns', settings: { directory: ${JSON.stringify(dir)} } }, env: {} });
    await state.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('store format and the version floor', () => {
  it('a new store records its format and a floor of 0, and a fresh key starts at version 1', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    expect(JSON.parse(readFileSync(join(dir, 'ns/store.json'), 'utf8'))).toEqual({ format: 2 });
    expect((await state.write('k', 1)).version).toBe(1);
    await state.close();
  });

  it('a first-wave store (no marker, no floor) is upgraded once in place: the floor goes above every version on disk', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    for (let i = 0; i < 4; i++) await state.write('a', i); // a: version 4, backups 1..3
    await state.write('b', 'x');
    await state.close();
    // Make it look first-wave: drop the marker and the floor.
    rmSync(join(dir, 'ns/store.json'));
    rmSync(join(dir, 'ns/floor'), { force: true });
    const first = openInChild(dir);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/upgraded .* to format 2 \(version floor set to 4/);
    const second = openInChild(dir);
    expect(second.status).toBe(0);
    expect(second.stderr).toBe(''); // said once
    const again = await openFile(dir);
    await again.delete('b');
    expect((await again.write('b', 'new')).version).toBeGreaterThan(4);
    await expect(again.write('b', 'stale', { ifVersion: 1 })).rejects.toBeInstanceOf(ConflictError);
    await again.close();
  });

  it('a store of a newer format is refused with INVALID_CONFIG naming both formats', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'ns'), { recursive: true });
    writeFileSync(join(dir, 'ns/store.json'), JSON.stringify({ format: 99 }));
    const refused = openFile(dir);
    await expect(refused).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(refused).rejects.toThrow(/format 99.*\(2\)/);
    expect(existsSync(join(dir, 'ns/floor'))).toBe(false);
  });

  it('an expired entry written over, or deleted, never lets its version come back', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('t', 1);
    const second = await state.write('t', 2, { ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await state.read('t')).toBeNull();
    expect(await state.delete('t')).toBe(false); // expired: nothing live deleted, but its version is floored
    const fresh = await state.write('t', 3);
    expect(fresh.version).toBeGreaterThan(second.version);
    await state.close();
  });
});
