/**
 * Mutexes never free a live holder (issue 14 item 3): a holder in another pid namespace whose pid
 * is free in ours, a holder stopped (SIGSTOP) inside a commit, and a stopped lease holder, whose
 * lease still ends at its ttl. Every wait ends at its deadline with a typed error (item 4).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError, isStateError } from '@agent-state/core';
import { BOOT_ID, PID_NAMESPACE, holderIsDead, mutexOwner, startTimeOf } from '../src/mutex.js';
import { openFile, openScript, removeTempDirs, tempDir, until } from './helpers.js';

const packageDir = join(import.meta.dirname, '..');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }
  removeTempDirs();
});

/** Starts a node script; resolves its stdout lines through `lines`. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; lines: string[]; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(command, args, { cwd: packageDir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  const lines: string[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => err };
}

/** True when process `pid` is stopped (state T in /proc/<pid>/stat). */
function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
}

async function expectTimeout(promise: Promise<unknown>, path: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TimeoutError);
  expect(isStateError(error, 'TIMEOUT')).toBe(true);
  expect((error as Error).message).toContain(path);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A pid that no process of our pid namespace has. */
function freePid(): number {
  for (let pid = 20_000 + Math.floor(Math.random() * 10_000); ; pid++) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

const hasUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
if (!hasUnshare && process.env.CI !== 'true') {
  console.warn('holders.test.ts: skipping the pid-namespace test: `unshare --pid --fork --mount-proc` needs root and util-linux');
}

describe('holder identity', () => {
  it('names boot id, pid namespace and start time; a reused pid (another start time) is dead, this process is not', () => {
    expect(BOOT_ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(PID_NAMESPACE).toMatch(/^\d+$/);
    const me = mutexOwner('x');
    expect(holderIsDead(me)).toBe(false);
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    const pid = sleeper.pid!;
    try {
      const start = startTimeOf(pid)!;
      const parts = me.split(':');
      const as = (p: number, s: string, ns = PID_NAMESPACE, boot = BOOT_ID): string => [parts[0], p, 'y', 'w', boot, ns, s].join(':');
      expect(holderIsDead(as(pid, start))).toBe(false); // alive, same process
      expect(holderIsDead(as(pid, `${start}1`))).toBe(true); // the pid now runs another process
      expect(holderIsDead(as(freePid(), start))).toBe(true); // gone
      expect(holderIsDead(as(freePid(), start, '4026530000'))).toBe(false); // another pid namespace: cannot tell
      expect(holderIsDead(as(pid, start, PID_NAMESPACE, '00000000-0000-0000-0000-000000000000'))).toBe(true); // an earlier boot
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('mutexes never free a live holder', () => {
  it.skipIf(!hasUnshare && process.env.CI !== 'true')(
    'a holder in another pid namespace, with a pid free in ours, keeps its mutex; the waiter times out naming the lock file',
    async () => {
      expect(hasUnshare, 'unshare --pid --fork --mount-proc (as root) is required under CI=true').toBe(true);
      const dir = tempDir();
      const seed = await openFile(dir);
      await seed.write('k/a', 'old');
      await seed.close();
      const lockPath = join(dir, 'ns/data/k/#a.lock');
      const pid = freePid();
      const script = `
        import { createExclusive, mutexOwner, nonce, unlinkQuiet } from ${JSON.stringify(join(packageDir, 'dist/mutex.js'))};
        const path = ${JSON.stringify(lockPath)};
        if (!createExclusive(path, mutexOwner(nonce()))) throw new Error('lock file taken');
        process.stdout.write('HELD ' + process.pid + '\\n');
        process.stdin.once('data', () => { unlinkQuiet(path); process.stdout.write('RELEASED\\n'); process.exit(0); });
      `;
      const holder = start('unshare', [
        '--pid',
        '--fork',
        '--mount-proc',
        'sh',
        '-c',
        `echo ${pid - 1} > /proc/sys/kernel/ns_last_pid; "${process.execPath}" --input-type=module -e '${script.replaceAll("'", "'\\''")}'; true`,
      ]);
      await until(() => holder.lines.some((l) => l.startsWith('HELD')) || holder.child.exitCode !== null, 'the holder in its pid namespace');
      expect(holder.stderr()).toBe('');
      const innerPid = Number(holder.lines.find((l) => l.startsWith('HELD'))!.split(' ')[1]);
      const content = readlinkSync(lockPath);
      expect(content.split(':')[1]).toBe(String(innerPid));
      expect(content.split(':')[5]).not.toBe(PID_NAMESPACE);
      // The holder's pid is free in our namespace: the first-wave rule would have freed it.
      expect(pidExists(innerPid)).toBe(false);
      expect(holderIsDead(content)).toBe(false);

      const state = await openFile(dir, { connect_timeout_ms: 1_000 });
      try {
        await expectTimeout(state.write('k/a', 'mine'), lockPath);
        expect(readlinkSync(lockPath)).toBe(content); // not broken
        expect((await state.read('k/a'))?.value).toBe('old');
        holder.child.stdin!.write('go\n');
        await until(() => holder.lines.includes('RELEASED'), 'the holder to release');
        await state.write('k/a', 'mine');
        expect((await state.read('k/a'))?.value).toBe('mine');
      } finally {
        await state.close();
      }
      expect(await holder.exited).toBe(0);
    },
  );

  it('a holder stopped inside a commit keeps its mutexes (writers time out at their deadline, nothing is rolled forward); after SIGCONT it finishes', async () => {
    const dir = tempDir();
    const seed = await openFile(dir);
    await seed.write('t/a', 'old');
    await seed.write('t/b', 'old');
    await seed.close();
    const script = `${openScript(dir)}
      process.stdout.write('OPEN\\n');
      await state.transaction((tx) => { tx.write('t/a', 'theirs'); tx.delete('t/b'); });
      process.stdout.write('COMMITTED\\n');
      await state.close();
    `;
    const holder = start(process.execPath, ['--input-type=module', '-e', script], { AGENT_STATE_FILE_TEST_STOP: 'after-intent' });
    const pid = holder.child.pid!;
    await until(() => holder.child.exitCode !== null || (holder.lines.includes('OPEN') && isStopped(pid)), 'the committer to stop itself');
    const lockA = join(dir, 'ns/data/t/#a.lock');
    const lockB = join(dir, 'ns/data/t/#b.lock');
    const heldA = readlinkSync(lockA);
    expect(heldA.split(':')[3]).toBe('tx');

    const state = await openFile(dir, { connect_timeout_ms: 1_000 });
    try {
      // Mutex wait: bounded, typed, the holder untouched.
      await expectTimeout(state.write('t/a', 'mine'), lockA);
      await expectTimeout(state.increment('t/b'), lockB);
      expect(readlinkSync(lockA)).toBe(heldA);
      expect(readlinkSync(lockB)).toBe(heldA);
      // Nothing applied yet; the intent is still there (not rolled forward behind its back).
      expect((await state.read('t/a'))?.value).toBe('old');
      holder.child.kill('SIGCONT');
      await until(() => holder.lines.includes('COMMITTED'), 'the commit to finish');
      expect(await holder.exited).toBe(0);
      expect((await state.read('t/a'))?.value).toBe('theirs');
      expect(await state.read('t/b')).toBeNull();
      expect(existsSync(lockA) || existsSync(lockB)).toBe(false);
      await state.write('t/a', 'mine');
      expect((await state.read('t/a'))?.value).toBe('mine');
    } finally {
      await state.close();
    }
  });

  it('a reader that meets a commit in progress (its committer stopped mid-apply) times out naming the intent, then reads it whole', async () => {
    const dir = tempDir();
    const seed = await openFile(dir);
    await seed.write('c/a', 1);
    await seed.write('c/b', 1);
    await seed.close();
    const script = `${openScript(dir)}
      process.stdout.write('OPEN\\n');
      await state.transaction((tx) => { tx.write('c/a', 2); tx.write('c/b', 2); });
      process.stdout.write('COMMITTED\\n');
      await state.close();
    `;
    // Stopped after its documents are renamed into place, before its intent is removed.
    const holder = start(process.execPath, ['--input-type=module', '-e', script], { AGENT_STATE_FILE_TEST_STOP: 'after-apply' });
    const pid = holder.child.pid!;
    await until(() => holder.child.exitCode !== null || (holder.lines.includes('OPEN') && isStopped(pid)), 'the committer to stop itself');
    const intent = JSON.parse(readFileSync(join(dir, 'ns/data/c/a.json'), 'utf8')) as { tx: string };
    const state = await openFile(dir, { connect_timeout_ms: 1_000 });
    try {
      await expectTimeout(state.read('c/a'), join(dir, `ns/tx/${intent.tx}.json`));
      holder.child.kill('SIGCONT');
      await until(() => holder.lines.includes('COMMITTED'), 'the commit to finish');
      expect(await holder.exited).toBe(0);
      expect((await state.readMany(['c/a', 'c/b'])).map((e) => e?.value)).toEqual([2, 2]);
    } finally {
      await state.close();
    }
  });

  it('a stopped lease holder loses its lease at its ttl, and its fenced write after SIGCONT is refused with LockLostError', async () => {
    const dir = tempDir();
    const go = join(dir, 'go');
    const script = `${openScript(dir)}
      const lock = await state.lock('res', { ttlMs: 1_500 });
      process.stdout.write('LOCKED ' + lock.token + '\\n');
      await waitFile(${JSON.stringify(go)});
      try {
        await state.write('fenced', 'stale', { fence: lock });
        process.stdout.write('WROTE\\n');
      } catch (error) {
        process.stdout.write('REFUSED ' + error.code + '\\n');
      }
      await state.close();
    `;
    const holder = start(process.execPath, ['--input-type=module', '-e', script]);
    await until(() => holder.child.exitCode !== null || holder.lines.some((l) => l.startsWith('LOCKED')), 'the lease holder');
    const first = Number(holder.lines.find((l) => l.startsWith('LOCKED'))!.split(' ')[1]);
    holder.child.kill('SIGSTOP');
    const state = await openFile(dir);
    try {
      const lock = await state.lock('res', { ttlMs: 30_000, waitMs: 20_000 });
      expect(lock.token).toBeGreaterThan(first);
      await state.write('fenced', 'fresh', { fence: lock });
      writeFileSync(go, 'go');
      holder.child.kill('SIGCONT');
      await until(() => holder.lines.some((l) => l.startsWith('REFUSED') || l === 'WROTE'), 'the stale holder to try');
      expect(holder.lines).toContain('REFUSED LOCK_LOST');
      expect((await state.read('fenced'))?.value).toBe('fresh');
      await lock.release();
    } finally {
      await state.close();
    }
    expect(await holder.exited).toBe(0);
  });
});

describe('fencing tokens survive a power loss', () => {
  const plant = (dir: string, record: object): void => {
    writeFileSync(join(dir, 'ns/locks/res.json'), `${JSON.stringify({ resource: 'res', owner: null, expiresAt: 0, ...record })}\n`);
  };
  const stored = (dir: string): { token: number; reserved: number; boot: string } =>
    JSON.parse(readFileSync(join(dir, 'ns/locks/res.json'), 'utf8')) as { token: number; reserved: number; boot: string };

  it('tokens are reserved in synced blocks; a record of an earlier boot continues above its reservation, one of this boot where it stands', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    try {
      const first = await state.lock('res', { ttlMs: 10_000 });
      expect(first.token).toBe(1);
      expect(stored(dir)).toMatchObject({ token: 1, reserved: 1_000, boot: BOOT_ID });
      await first.release();
      expect(stored(dir)).toMatchObject({ token: 1, reserved: 1_000, boot: BOOT_ID }); // kept by release

      // Last written before a reboot (a power loss may have lost tokens up to `reserved`).
      plant(dir, { token: 5, reserved: 1_005, boot: '00000000-0000-0000-0000-000000000000' });
      const afterBoot = await state.lock('res', { ttlMs: 10_000 });
      expect(afterBoot.token).toBe(1_006);
      expect(stored(dir)).toMatchObject({ token: 1_006, reserved: 2_005, boot: BOOT_ID });
      await afterBoot.release();

      // Written in this boot: the page cache has the last token, so it continues from it.
      plant(dir, { token: 5, reserved: 1_005, boot: BOOT_ID });
      const sameBoot = await state.lock('res', { ttlMs: 10_000 });
      expect(sameBoot.token).toBe(6);
      await sameBoot.release();

      // A first-wave record (no reservation, no boot): above its last token.
      plant(dir, { token: 9 });
      const legacy = await state.lock('res', { ttlMs: 10_000 });
      expect(legacy.token).toBe(10);
      await legacy.release();
    } finally {
      await state.close();
    }
  });
});
