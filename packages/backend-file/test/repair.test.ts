import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('repair of a damaged document', () => {
  // Every write path refusing a damaged key, and the version after repair, are the contract's
  // damaged-data group. Here: where the damaged document goes and what the report says.
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
    expect((await state.write('cfg/main', 'repaired', { ifVersion: 'absent' })).version).toBeGreaterThan(3);
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
