import { existsSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localHost } from '@agent-state/core';
import { deadPid, openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const doc = (key: string, version: number, value: unknown, tx?: string): string =>
  JSON.stringify({ key, version, updatedAt: Date.now(), expiresAt: null, ...(tx && { tx }), value });

/**
 * Leaves on disk what a transaction killed after its commit point leaves: staged temps, its
 * lock files and its intent. With `applied`, the first key was already renamed into place.
 */
function plantDeadCommit(dir: string, opts: { intent: boolean; applied: boolean }): void {
  const data = join(dir, 'ns/data/t');
  const owner = `${localHost()}:${deadPid()}:deadtx:tx`;
  for (const key of ['a', 'b']) {
    writeFileSync(join(data, `#${key}.tmp`), doc(`t/${key}`, 2, 'new', 'deadtx'));
    symlinkSync(owner, join(data, `#${key}.lock`));
  }
  if (opts.intent) {
    const ops = [{ key: 't/a', kind: 'write' }, { key: 't/b', kind: 'write' }];
    writeFileSync(join(dir, 'ns/tx/deadtx.json'), JSON.stringify({ owner, createdAt: Date.now(), ops }));
  }
  if (opts.applied) renameSync(join(data, '#a.tmp'), join(data, 'a.json'));
}

async function seed(dir: string): Promise<void> {
  const state = await openFile(dir);
  await state.write('t/a', 'old');
  await state.write('t/b', 'old');
  await state.close();
}

describe('crash recovery', () => {
  it('opening the store rolls forward a complete intent left half-applied by a dead process', async () => {
    const dir = tempDir();
    await seed(dir);
    plantDeadCommit(dir, { intent: true, applied: true });
    const state = await openFile(dir);
    expect((await state.readMany(['t/a', 't/b'])).map((e) => e?.value)).toEqual(['new', 'new']);
    expect(readdirSync(join(dir, 'ns/tx'))).toEqual([]);
    expect(readdirSync(join(dir, 'ns/data/t')).sort()).toEqual(['a.json', 'b.json']);
    await state.write('t/b', 'after');
    await state.close();
  });

  it('opening the store discards a commit that died before its intent was complete', async () => {
    const dir = tempDir();
    await seed(dir);
    plantDeadCommit(dir, { intent: false, applied: false });
    const incomplete = join(dir, `ns/tx/#deadtx~${localHost()}~${deadPid()}.tmp`);
    writeFileSync(incomplete, '{"owner":"trunc');
    const state = await openFile(dir);
    expect((await state.readMany(['t/a', 't/b'])).map((e) => e?.value)).toEqual(['old', 'old']);
    expect(existsSync(incomplete)).toBe(false);
    await state.write('t/a', 'writable');
    expect((await state.read('t/a'))?.version).toBe(2);
    await state.close();
  });

  it('a client already open that meets a key of a dead, half-applied commit rolls it forward first', async () => {
    const dir = tempDir();
    await seed(dir);
    const state = await openFile(dir);
    plantDeadCommit(dir, { intent: true, applied: true });
    expect((await state.read('t/a'))?.value).toBe('new');
    expect((await state.read('t/b'))?.value).toBe('new');
    expect(readdirSync(join(dir, 'ns/tx'))).toEqual([]);
    await state.close();
  });

  it('a key lock file left by a dead writer is recovered at once', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('k', 1);
    symlinkSync(`${localHost()}:${deadPid()}:w1`, join(dir, 'ns/data/#k.lock'));
    expect((await state.write('k', 2)).version).toBe(2);
    await state.close();
  });

  it('a lock file left by an earlier process with this same pid (a restarted container) is recovered at once', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('k', 1);
    symlinkSync(`${localHost()}:${process.pid}:00000000001`, join(dir, 'ns/data/#k.lock'));
    expect((await state.write('k', 2)).version).toBe(2);
    await state.close();
  });

  it('a lease held by a dead local process is free before its ttl, with a greater token', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const first = await state.lock('res');
    await first.release();
    const lease = { resource: 'res', owner: `${localHost()}:${deadPid()}:c:1`, token: 7, expiresAt: Date.now() + 600_000 };
    writeFileSync(join(dir, 'ns/locks/res.json'), JSON.stringify(lease));
    const next = await state.lock('res', { waitMs: 0 });
    expect(next.token).toBe(8);
    await next.release();
    await state.close();
  });
});
