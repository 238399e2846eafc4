import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidConfigError, usePortableCoordination } from '@agent-state/core';
import { openFile, removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const packageDir = join(import.meta.dirname, '..');

/** Opens the store in a fresh process (so its stderr can be seen) and closes it. */
function openInChild(dir: string): { status: number | null; stderr: string } {
  const script = `
    import { openState } from '@agent-state/core';
    const state = await openState({ config: { backend: 'file', namespace: 'ns', settings: { directory: ${JSON.stringify(dir)} } }, env: {} });
    await state.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('store format and the version floor', () => {
  it('a new store records its format and a floor of 0, and a fresh key starts at version 1', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    expect(JSON.parse(readFileSync(join(dir, 'ns/store.json'), 'utf8'))).toEqual({ format: 2 });
    expect((await state.write('k', 1)).version).toBe(1);
    await state.close();
  });

  it('a first-wave store (no marker, no floor) is upgraded once in place: the floor goes above every version on disk', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    for (let i = 0; i < 4; i++) await state.write('a', i); // a: version 4, backups 1..3
    await state.write('b', 'x');
    await state.close();
    // Make it look first-wave: drop the marker and the floor.
    rmSync(join(dir, 'ns/store.json'));
    rmSync(join(dir, 'ns/floor'), { force: true });
    const first = openInChild(dir);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/upgraded .* to format 2 \(version floor set to 4/);
    const second = openInChild(dir);
    expect(second.status).toBe(0);
    expect(second.stderr).toBe(''); // said once
    const again = await openFile(dir);
    await again.delete('b');
    expect((await again.write('b', 'new')).version).toBeGreaterThan(4);
    await expect(again.write('b', 'stale', { ifVersion: 1 })).rejects.toBeInstanceOf(ConflictError);
    await again.close();
  });

  it('a store of a newer format is refused with INVALID_CONFIG naming both formats', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'ns'), { recursive: true });
    writeFileSync(join(dir, 'ns/store.json'), JSON.stringify({ format: 99 }));
    const refused = openFile(dir);
    await expect(refused).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(refused).rejects.toThrow(/format 99.*\(2\)/);
    expect(existsSync(join(dir, 'ns/floor'))).toBe(false);
  });

  it('an expired entry written over, or deleted, never lets its version come back', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('t', 1);
    const second = await state.write('t', 2, { ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await state.read('t')).toBeNull();
    expect(await state.delete('t')).toBe(false); // expired: nothing live deleted, but its version is floored
    const fresh = await state.write('t', 3);
    expect(fresh.version).toBeGreaterThan(second.version);
    await state.close();
  });
});

describe('expiry sweep', () => {
  it('a listing removes the expired documents it walks past, and their keys come back above their old versions', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    for (let i = 0; i < 20; i++) await state.write(`ch/m/${i}`, i, { ttlMs: 1 });
    const last = await state.write('ch/m/last', 'x', { ttlMs: 1 });
    await state.write('ch/m/live', 'stays');
    await new Promise((r) => setTimeout(r, 20));
    const listed: string[] = [];
    for await (const e of state.list({ prefix: 'ch/m/' })) listed.push(e.key);
    expect(listed).toEqual(['ch/m/live']);
    expect(readdirSync(join(dir, 'ns/data/ch/m'))).toEqual(['live.json']);
    expect((await state.write('ch/m/last', 'again')).version).toBeGreaterThan(last.version);
    await state.close();
  });
});

describe('first-wave coordination entries', () => {
  it('queues, channels, mailboxes and logs kept as entries move into the native layout on upgrade, nothing lost', async () => {
    const dir = tempDir();
    const old = await openFile(dir);
    usePortableCoordination(old); // writes the entry layout the first wave used
    const q = old.queue('tasks');
    await q.enqueue({ n: 1 });
    await q.enqueue({ n: 2 }, { priority: 'high' });
    await q.enqueue({ n: 3 }, { delayMs: 60_000 });
    const inFlight = await q.dequeue({ leaseMs: 60_000 });
    expect(inFlight?.payload).toEqual({ n: 2 });
    await old.publish('news', { hello: 1 });
    await old.publish('news', { hello: 2 });
    await old.mailbox('alice').send('bob', { hi: 'bob' });
    await old.log('audit').append({ step: 1 });
    await old.close();
    rmSync(join(dir, 'ns/store.json'));
    rmSync(join(dir, 'ns/floor'), { force: true });

    const first = openInChild(dir);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/upgraded .* moved into the native layout/);
    const state = await openFile(dir);
    const queues = state.backend.queues!;
    expect(await queues.counts('tasks')).toEqual({ waiting: 1, inFlight: 1, delayed: 1, dead: 0 });
    const job = await state.queue('tasks').dequeue();
    expect(job?.payload).toEqual({ n: 1 });
    expect((await state.queue('tasks').enqueue({ n: 4 })).sequence).toBe(4);
    const logs = state.backend.logs!;
    expect((await logs.read('ch/news', { after: 0, limit: 10 })).map((r) => JSON.parse(r.json).message)).toEqual([{ hello: 1 }, { hello: 2 }]);
    expect((await logs.read('log/audit', { after: 0, limit: 10 })).map((r) => JSON.parse(r.json))).toEqual([{ step: 1 }]);
    const mail = await state.mailbox('bob').receive();
    expect(mail.map((m) => m.message)).toEqual([{ hi: 'bob' }]);
    const left: string[] = [];
    for await (const e of state.list({ prefix: '@' })) left.push(e.key);
    expect(left.filter((k) => /^@(q|ch|mail|log)\//.test(k))).toEqual([]);
    await state.close();
  });
});
