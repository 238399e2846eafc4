import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, InvalidConfigError, loadConfig, openState } from '@agent-state/core';
import { createBackend, createFileBackend } from '../src/index.js';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('settings', () => {
  it('openState() in an empty folder with no configuration uses ./.agent-state', async () => {
    const cwd = tempDir();
    const state = await openState({ cwd, env: {} });
    expect(state.backendName).toBe('file');
    await state.write('hello', 'world');
    expect(statSync(join(cwd, '.agent-state/default/data/hello.json')).isFile()).toBe(true);
    await state.close();
  });

  it('a relative directory in project.yml is resolved against the project.yml folder', async () => {
    const project = tempDir();
    writeFileSync(join(project, 'project.yml'), 'communication:\n  backend: file\n  settings:\n    directory: state\n    durability: none\n');
    const backend = createBackend(loadConfig({ cwd: project, env: {} }));
    await backend.init({ namespace: 'default', connectTimeoutMs: 1_000 });
    expect((await backend.health()).target).toBe(join(project, 'state/default'));
    await backend.close();
  });

  it('a directory that cannot be created is a BackendUnavailableError naming it, at open', async () => {
    const parentFile = join(tempDir(), 'a-file');
    writeFileSync(parentFile, 'not a directory');
    const error = await openFile(join(parentFile, 'store')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).message).toContain(parentFile);
  });

  it('wrong options are an InvalidConfigError naming the option', () => {
    expect(() => createFileBackend({ directory: 'relative' })).toThrow(/options\.directory/);
    expect(() => createFileBackend({ directory: '/tmp/x', backupCount: -1 })).toThrow(InvalidConfigError);
    expect(() => createFileBackend({ directory: '/tmp/x', durability: 'sometimes' as 'none' })).toThrow(/options\.durability/);
  });

  it('a shared transaction_dir keeps one subfolder per store', async () => {
    const shared = tempDir();
    const a = await openFile(tempDir(), { transaction_dir: shared });
    const b = await openFile(tempDir(), { transaction_dir: shared });
    const c = await openFile(tempDir(), { transaction_dir: shared }, 'other');
    for (const s of [a, b, c]) {
      await s.transaction((tx) => {
        tx.write('x', 1);
        tx.write('y', 2);
      });
    }
    expect(readdirSync(shared)).toHaveLength(3);
    for (const s of [a, b, c]) await s.close();
  });

  it('durability none still writes atomically and reads back', async () => {
    const dir = tempDir();
    const state = await openFile(dir, { durability: 'none' });
    await state.write('k', { v: 1 });
    expect((await state.read('k'))?.value).toEqual({ v: 1 });
    expect((await state.health()).details).toMatchObject({ durability: 'none' });
    await state.close();
    expect(existsSync(join(dir, 'ns/data/k.json'))).toBe(true);
  });
});
