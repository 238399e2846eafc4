import { existsSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateClient } from '@agent-state/core';
// The module instances openState() loads (dist).
import { Layout } from '../dist/layout.js';
import { leaseMayBeFree } from '../dist/lock.js';
import { openFile, openScript, removeTempDirs, runNode, tempDir, until } from './helpers.js';

afterEach(removeTempDirs);

function notifyOf(state: StateClient): NonNullable<StateClient['backend']['notify']> {
  const notify = state.backend.notify;
  if (!notify) throw new Error('the file backend has no notify');
  return notify;
}

/** A child that takes `resource`, says so (file `locked`), waits for file `go`, then releases it. */
function holderScript(dir: string, resource: string): string {
  return `${openScript(dir)}
    const { writeFileSync } = await import('node:fs');
    const lock = await state.lock(${JSON.stringify(resource)}, { ttlMs: 60_000, waitMs: 10_000 });
    writeFileSync(${JSON.stringify(join(dir, 'locked'))}, String(lock.token));
    await waitFile(${JSON.stringify(join(dir, 'go'))});
    await lock.release();
    await state.close();`;
}

describe('lock wakeups (lockWake)', () => {
  it('declares lockWake, next to its queue and log wakeups', async () => {
    const state = await openFile(tempDir());
    expect(state.backend.capabilities.coordination).toMatchObject({ notify: true, lockWake: true });
    await state.close();
  });

  it('a release in another OS process wakes a listener of the lock topic in this one', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const child = runNode(holderScript(dir, 'jobs/build'));
    await until(() => existsSync(join(dir, 'locked')), 'the other process holding the lock');
    let wakes = 0;
    const stop = await notifyOf(state).listen({ kind: 'lock', name: 'jobs/build' }, () => wakes++);
    writeFileSync(join(dir, 'go'), '');
    const r = await child;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await until(() => wakes > 0, 'the wake of the release');
    await stop();
    await state.close();
  });

  it('a lock() waiting in this process takes the lock another OS process releases, with a newer token', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const child = runNode(holderScript(dir, 'jobs/deploy'));
    await until(() => existsSync(join(dir, 'locked')), 'the other process holding the lock');
    const waiting = state.lock('jobs/deploy', { waitMs: 20_000 });
    writeFileSync(join(dir, 'go'), '');
    const lock = await waiting;
    const r = await child;
    expect(r.stderr).toBe('');
    expect(lock.token).toBeGreaterThan(0);
    await lock.release();
    await state.close();
  });

  it('the wake filter lets a waiter try only once the mutex is free and the lease free, run out or gone', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    const files = new Layout(dir, 'ns', undefined).lock('res');
    expect(leaseMayBeFree(files)).toBe(true); // never taken: no record at all
    const lock = await state.lock('res', { ttlMs: 60_000 });
    expect(leaseMayBeFree(files)).toBe(false); // held by a live process
    await lock.release();
    expect(leaseMayBeFree(files)).toBe(true);
    // Someone is changing the record right now: its unlink of the mutex wakes again.
    symlinkSync('someone', files.mutex);
    expect(leaseMayBeFree(files)).toBe(false);
    unlinkSync(files.mutex);
    const short = await state.lock('res', { ttlMs: 1 });
    await until(() => leaseMayBeFree(files), 'the 1 ms lease to run out');
    await short.release().catch(() => undefined);
    // A damaged record: tryLock is the one to report it.
    writeFileSync(files.file, '{ not json');
    expect(leaseMayBeFree(files)).toBe(true);
    await state.close();
  });
});
