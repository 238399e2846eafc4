import { existsSync, linkSync, readFileSync, readdirSync } from 'node:fs';
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

  it('values growing and shrinking across writes: the document and every kept backup read whole, each version in its own file', async () => {
    // A write reuses the file of the backup that falls out of backup_count as its temp file
    // (context.ts), rewritten in place: shorter values must leave no tail of longer ones.
    const dir = tempDir();
    const state = await openFile(dir, { backup_count: 3 });
    const valueOf = (i: number): { i: number; pad: string } => ({ i, pad: 'x'.repeat([5_000, 10, 300, 9_000, 0][i % 5]!) });
    for (let i = 1; i <= 20; i++) {
      await state.write('doc', valueOf(i));
      expect((await state.read('doc'))?.value).toEqual(valueOf(i));
    }
    const backups = join(dir, 'ns/backups');
    expect(readdirSync(backups).sort()).toEqual(['doc.json#17', 'doc.json#18', 'doc.json#19']);
    for (const v of [17, 18, 19]) {
      const doc = JSON.parse(readFileSync(join(backups, `doc.json#${v}`), 'utf8'));
      expect(doc).toMatchObject({ version: v, value: valueOf(v) });
    }
    await state.close();
  });

  it('a backup file that also has a name of its own elsewhere is left as it is when it falls out of backup_count', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { backup_count: 1 });
    await state.write('doc', 'one');
    await state.write('doc', 'two'); // backups: doc.json#1
    const kept = join(dir, 'my-copy.json');
    linkSync(join(dir, 'ns/backups/doc.json#1'), kept);
    const before = readFileSync(kept, 'utf8');
    await state.write('doc', 'three'); // doc.json#1 falls out
    await state.write('doc', 'four');
    expect(readFileSync(kept, 'utf8')).toBe(before);
    expect(JSON.parse(before).value).toBe('one');
    expect((await state.read('doc'))?.value).toBe('four');
    expect(readdirSync(join(dir, 'ns/backups'))).toEqual(['doc.json#3']);
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
