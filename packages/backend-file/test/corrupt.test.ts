import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('damaged files', () => {
  it('a truncated document is a CorruptDataError naming the file, never absent, never overwritten', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('cfg/main', { big: 'x'.repeat(100) });
    const file = join(dir, 'ns/data/cfg/main.json');
    const damaged = readFileSync(file, 'utf8').slice(0, 40);
    writeFileSync(file, damaged);
    const isCorrupt = (e: unknown): boolean => e instanceof CorruptDataError && e.code === 'CORRUPT_DATA' && e.message.includes(file);
    await expect(state.read('cfg/main')).rejects.toSatisfy(isCorrupt);
    await expect(state.readMany(['cfg/main'])).rejects.toSatisfy(isCorrupt);
    await expect(state.write('cfg/main', 'new')).rejects.toSatisfy(isCorrupt);
    await expect(state.delete('cfg/main')).rejects.toSatisfy(isCorrupt);
    await expect(state.increment('cfg/main')).rejects.toSatisfy(isCorrupt);
    await expect(state.transaction((tx) => void tx.write('cfg/main', 1))).rejects.toSatisfy(isCorrupt);
    await expect((async () => { for await (const _ of state.list()) void _; })()).rejects.toSatisfy(isCorrupt);
    expect(readFileSync(file, 'utf8')).toBe(damaged);
    // Other keys stay usable.
    await state.write('cfg/other', 1);
    expect((await state.read('cfg/other'))?.value).toBe(1);
    await state.close();
  });

  it('valid JSON that is not a document is corrupt too', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('k', 1);
    writeFileSync(join(dir, 'ns/data/k.json'), '{"hello":"world"}');
    await expect(state.read('k')).rejects.toBeInstanceOf(CorruptDataError);
    await state.close();
  });

  it('a damaged lock file is a CorruptDataError, and its counter is not silently reset', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const lock = await state.lock('res');
    await lock.release();
    const file = join(dir, 'ns/locks/res.json');
    writeFileSync(file, '{"resource":"res","own');
    await expect(state.lock('res', { waitMs: 0 })).rejects.toBeInstanceOf(CorruptDataError);
    expect(readFileSync(file, 'utf8')).toBe('{"resource":"res","own');
    await state.close();
  });
});
