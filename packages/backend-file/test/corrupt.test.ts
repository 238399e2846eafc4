import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('damaged files', () => {
  // Every operation refusing a torn document, and repair, are the contract's damaged-data group
  // (test/damage.ts tears the file). Here: the error names the file.
  it('a truncated document is a CorruptDataError naming the file', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('cfg/main', { big: 'x'.repeat(100) });
    const file = join(dir, 'ns/data/cfg/main.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    await expect(state.read('cfg/main')).rejects.toSatisfy((e: unknown) => e instanceof CorruptDataError && e.location === file && e.message.includes(file));
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
