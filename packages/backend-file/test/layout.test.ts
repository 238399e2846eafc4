import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidKeyError } from '@agent-state/core';
import { createFileBackend } from '../src/index.js';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('on-disk layout', () => {
  it('stores each key as an inspectable JSON document at a path made of its segments', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('tasks/42', { status: 'assigned' }, { ttlMs: 60_000 });
    const doc = JSON.parse(readFileSync(join(dir, 'ns/data/tasks/42.json'), 'utf8'));
    expect(doc).toMatchObject({ key: 'tasks/42', version: 1, value: { status: 'assigned' } });
    expect(typeof doc.updatedAt).toBe('number');
    expect(doc.expiresAt).toBeGreaterThan(Date.now());
    await state.close();
  });

  it('lets a key and keys below it coexist, including segments that end in .json', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const keys = ['a', 'a/b', 'a/b/c', 'x.json', 'x.json/y', 'x.json/y.json', 'odd:@+=,-_.seg/v'];
    for (const key of keys) await state.write(key, key);
    for (const key of keys) expect((await state.read(key))?.value).toBe(key);
    const listed: string[] = [];
    for await (const e of state.list()) listed.push(e.key);
    expect(listed).toEqual([...keys].sort());
    const under: string[] = [];
    for await (const e of state.list({ prefix: 'x.json/' })) under.push(e.key);
    expect(under).toEqual(['x.json/y', 'x.json/y.json']);
    const paged: string[] = [];
    for await (const e of state.list({ prefix: 'a', after: 'a/b', limit: 2 })) paged.push(e.key);
    expect(paged).toEqual(['a/b/c']);
    await state.close();
  });

  it('creates files 0600 and directories 0700', async () => {
    const dir = tempDir();
    const state = await openFile(join(dir, 'store'));
    await state.write('p/q', 1);
    const lock = await state.lock('r');
    await lock.release();
    expect(statSync(join(dir, 'store/ns/data/p/q.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'store/ns/locks/r.json')).mode & 0o777).toBe(0o600);
    for (const d of ['store', 'store/ns', 'store/ns/data', 'store/ns/data/p', 'store/ns/tx']) {
      expect(statSync(join(dir, d)).mode & 0o777).toBe(0o700);
    }
    await state.close();
  });

  it('keeps namespaces in separate subdirectories that never see each other', async () => {
    const dir = tempDir();
    const a = await openFile(dir, {}, 'team-a');
    const b = await openFile(dir, {}, 'team-b');
    await a.write('k', 'a');
    expect(await b.read('k')).toBeNull();
    expect(statSync(join(dir, 'team-a/data/k.json')).isFile()).toBe(true);
    await a.close();
    await b.close();
  });

  it('refuses a key that would leave the store directory, even if core let it through', async () => {
    const backend = createFileBackend({ directory: tempDir() });
    await backend.init({ namespace: 'ns', connectTimeoutMs: 1_000 });
    for (const key of ['../escape', 'a/../../b', '/etc/passwd', 'a\u0000b']) {
      await expect(backend.read(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(backend.write(key, 1, { json: '1' })).rejects.toBeInstanceOf(InvalidKeyError);
    }
    await backend.close();
  });
});
