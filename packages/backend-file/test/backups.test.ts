import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('backups', () => {
  it('keeps the last backup_count previous versions of a key', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { backup_count: 2 });
    for (let i = 1; i <= 5; i++) await state.write('doc', { i });
    const backups = join(dir, 'ns/backups');
    expect(readdirSync(backups).sort()).toEqual(['doc.json#3', 'doc.json#4']);
    expect(JSON.parse(readFileSync(join(backups, 'doc.json#4'), 'utf8')).value).toEqual({ i: 4 });
    await state.delete('doc');
    expect(JSON.parse(readFileSync(join(backups, 'doc.json#5'), 'utf8')).value).toEqual({ i: 5 });
    await state.close();
  });

  it('backup_count 0 keeps none, and coordination keys are never backed up', async () => {
    const off = tempDir();
    const a = await openFile(off, { backup_count: 0 });
    await a.write('doc', 1);
    await a.write('doc', 2);
    expect(existsSync(join(off, 'ns/backups'))).toBe(false);
    await a.close();

    const on = tempDir();
    const b = await openFile(on, { backup_count: 3 });
    const q = b.queue('jobs');
    await q.enqueue({ n: 1 });
    const job = await q.dequeue();
    await job?.ack();
    expect(existsSync(join(on, 'ns/backups'))).toBe(false);
    await b.close();
  });
});
