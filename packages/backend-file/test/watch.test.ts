import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateClient } from '@agent-state/core';
// The module instance openState() loads (dist), so its process-wide watch table is the one in use.
import { watchedDirCount } from '../dist/watch.js';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

const shmDirs: string[] = [];
afterEach(() => {
  removeTempDirs();
  for (const dir of shmDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const packageDir = join(import.meta.dirname, '..');

/** Runs an ES module script in a new node process (cwd: this package, so '@agent-state/core' resolves). */
function runNode(script: string): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, 10_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}

/** A script that opens the store at `directory` and writes `key` `times` times. */
function writerScript(directory: string, key: string, times = 1): string {
  return `
    import { openState } from '@agent-state/core';
    const state = await openState({ config: { backend: 'file', namespace: 'ns', settings: { directory: ${JSON.stringify(directory)} } }, env: {} });
    for (let i = 0; i < ${times}; i++) await state.write(${JSON.stringify(key)}, i);
    await state.close();
  `;
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function watchOf(state: StateClient): (key: string, onChange: () => void) => () => void {
  const watch = state.backend.watch?.bind(state.backend);
  if (!watch) throw new Error('the file backend has no watch');
  return watch;
}

describe('watch', () => {
  for (const [where, parent] of [
    ['the OS temp dir', undefined],
    ['/dev/shm', '/dev/shm'],
  ] as const) {
    it(`on ${where}, another process writing the key (its file and directory not there yet) calls onChange`, async () => {
      const dir = parent ? mkdtempSync(join(parent, 'agent-state-file-watch-')) : tempDir();
      if (parent) shmDirs.push(dir);
      const state = await openFile(dir);
      let calls = 0;
      const stop = watchOf(state)('@ch/news/seq', () => calls++);
      const writer = await runNode(writerScript(dir, '@ch/news/seq'));
      expect(writer.stderr).toBe('');
      expect(writer.code).toBe(0);
      await until(() => calls > 0, 'a change notification');
      stop();
      await state.close();
    });
  }

  it('a change to another key of the same directory does not call onChange', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    let watched = 0;
    let other = 0;
    const stops = [watchOf(state)('t/a', () => watched++), watchOf(state)('t/b', () => other++)];
    await state.write('t/b', 1);
    await until(() => other > 0, 'the notification of t/b');
    expect(watched).toBe(0);
    for (const stop of stops) stop();
    await state.close();
  });

  it('after stop, onChange is no longer called, and the directory watch is shared and refcounted', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const other = await openFile(dir);
    const before = watchedDirCount();
    let stoppedCalls = 0;
    let liveCalls = 0;
    const stop = watchOf(state)('k/x', () => stoppedCalls++);
    const stopLive = watchOf(other)('k/x', () => liveCalls++);
    expect(watchedDirCount()).toBe(before + 1); // two clients, one fs.watch
    stop();
    stop(); // idempotent
    expect(watchedDirCount()).toBe(before + 1);
    const writer = await runNode(writerScript(dir, 'k/x'));
    expect(writer.code).toBe(0);
    // The still-watching client is notified of the same event: the stopped one must not be.
    await until(() => liveCalls > 0, 'the live watcher');
    expect(stoppedCalls).toBe(0);
    stopLive();
    expect(watchedDirCount()).toBe(before);
    await Promise.all([state.close(), other.close()]);
  });

  it('close() stops every watch of the client', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const witness = await openFile(dir);
    const before = watchedDirCount();
    let closedCalls = 0;
    for (const key of ['a/1', 'a/2', 'b/1', '@ch/c/seq']) watchOf(state)(key, () => closedCalls++);
    expect(watchedDirCount()).toBe(before + 3);
    await state.close();
    expect(watchedDirCount()).toBe(before);
    let witnessCalls = 0;
    const stop = watchOf(witness)('a/1', () => witnessCalls++);
    await witness.write('a/1', 'after close');
    await until(() => witnessCalls > 0, 'the witness');
    expect(closedCalls).toBe(0);
    stop();
    await witness.close();
  });

  it('a process that watches keys (and a subscriber) and closes exits by itself', async () => {
    const dir = tempDir();
    const result = await runNode(`
      import { openState } from '@agent-state/core';
      const state = await openState({ config: { backend: 'file', namespace: 'ns', settings: { directory: ${JSON.stringify(dir)} } }, env: {} });
      for (const key of ['x/1', 'y/1', '@ch/c/seq']) state.backend.watch(key, () => {});
      const unsubscribe = await state.subscribe('c', () => {});
      await state.publish('c', 'hello');
      await unsubscribe();
      await state.close();
    `);
    expect(result.stderr).toBe('');
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
  });

  it('the watched directory removed while watching crashes nothing and leaves the store usable', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('gone/k', 1);
    const before = watchedDirCount();
    let calls = 0;
    const stop = watchOf(state)('gone/k', () => calls++);
    rmSync(join(dir, 'ns/data/gone'), { recursive: true, force: true });
    // The removal retires the watch (one spurious wake) and polling takes over.
    await until(() => calls > 0 && watchedDirCount() === before, 'the watch retired');
    stop();
    expect((await state.read('gone/k'))).toBeNull();
    await state.close();
  });
});
