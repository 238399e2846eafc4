import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, CorruptDataError } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('damaged data is never overwritten; repair is the way past it', () => {
  it('write, delete, increment, update and commit on a damaged key fail with CorruptDataError and change nothing', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('cfg/main', { big: 'x'.repeat(100) });
    const file = join(dir, 'ns/data/cfg/main.json');
    const damaged = readFileSync(file, 'utf8').slice(0, 40);
    writeFileSync(file, damaged);
    const corrupt = (e: unknown): boolean => e instanceof CorruptDataError && e.code === 'CORRUPT_DATA';
    await expect(state.write('cfg/main', 'new')).rejects.toSatisfy(corrupt);
    await expect(state.write('cfg/main', 'new', { ifVersion: 'absent' })).rejects.toSatisfy(corrupt);
    await expect(state.delete('cfg/main')).rejects.toSatisfy(corrupt);
    await expect(state.increment('cfg/main')).rejects.toSatisfy(corrupt);
    await expect(state.update('cfg/main', () => 'updated')).rejects.toSatisfy(corrupt);
    await expect(state.transaction((tx) => void tx.delete('cfg/main'))).rejects.toSatisfy(corrupt);
    expect(readFileSync(file, 'utf8')).toBe(damaged);
    await state.close();
  });

  it('repair moves the damaged document aside, says what it was, and the key starts above its old version', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    for (let i = 0; i < 3; i++) await state.write('cfg/main', { i, pad: 'x'.repeat(100) });
    const file = join(dir, 'ns/data/cfg/main.json');
    const damaged = readFileSync(file, 'utf8').slice(0, 45); // still shows "version":3
    writeFileSync(file, damaged);
    const report = await state.backend.repair!('cfg/main');
    expect(report.key).toBe('cfg/main');
    expect(report.removed).toBe(true);
    expect(report.damage).toContain(file);
    expect(existsSync(file)).toBe(false);
    const kept = readdirSync(join(dir, 'ns/backups/cfg')).filter((n) => n.includes('#damaged-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, 'ns/backups/cfg', kept[0]!), 'utf8')).toBe(damaged);
    expect(await state.read('cfg/main')).toBeNull();
    const fresh = await state.write('cfg/main', 'repaired', { ifVersion: 'absent' });
    expect(fresh.version).toBeGreaterThan(3);
    await expect(state.write('cfg/main', 'stale', { ifVersion: 3 })).rejects.toBeInstanceOf(ConflictError);
    await state.close();
  });

  it('repair of damage that shows no version, with no backups, stays above every version on disk', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { backup_count: 0 });
    for (let i = 0; i < 7; i++) await state.write('other', i);
    await state.write('k', 1);
    writeFileSync(join(dir, 'ns/data/k.json'), 'garbage');
    await expect(state.read('k')).rejects.toBeInstanceOf(CorruptDataError);
    expect((await state.backend.repair!('k')).removed).toBe(true);
    expect((await state.write('k', 2)).version).toBeGreaterThan(7);
    await state.close();
  });

  it('repair leaves a healthy or absent key alone', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('ok', 1);
    expect(await state.backend.repair!('ok')).toEqual({ key: 'ok', removed: false });
    expect(await state.backend.repair!('absent')).toEqual({ key: 'absent', removed: false });
    expect((await state.read('ok'))?.value).toBe(1);
    await state.close();
  });
});
