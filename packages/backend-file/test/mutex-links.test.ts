/**
 * Plain mutexes are hard links to the client's holder file (mutex.ts): they still name their
 * holder, a dead holder's mutex is still recovered at once, and no holder file outlives its client.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFile, openScript, removeTempDirs, runNode, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const lockFilesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.lock'));

describe('mutex files (hard links to a holder file)', () => {
  it('a key mutex left by a SIGKILLed writer names it, and the next write recovers it at once; the dead client’s holder file is swept', async () => {
    const dir = tempDir();
    // The child writes once (making its holder file), leaves a mutex on `k` as a write killed
    // inside its critical section would, then dies by SIGKILL.
    const r = await runNode(`${openScript(dir)}
      const { linkSync, readdirSync } = await import('node:fs');
      await state.write('k', 1);
      const holders = ${JSON.stringify(join(dir, 'ns/holders'))};
      const [mine] = readdirSync(holders);
      linkSync(holders + '/' + mine, ${JSON.stringify(join(dir, 'ns/data/#k.lock'))});
      process.stdout.write(String(process.pid));
      process.kill(process.pid, 'SIGKILL');`);
    expect(r.stderr).toBe('');
    const lock = join(dir, 'ns/data/#k.lock');
    expect(readFileSync(lock, 'utf8').split(':')[1]).toBe(r.stdout);
    expect(readdirSync(join(dir, 'ns/holders'))).toHaveLength(1);

    const state = await openFile(dir);
    const entry = await state.write('k', 2);
    expect(entry.version).toBe(2);
    expect(existsSync(lock)).toBe(false);
    // Only this client's holder file is left.
    const holders = readdirSync(join(dir, 'ns/holders'));
    expect(holders).toHaveLength(1);
    expect(holders[0]!.split('~')[1]).toBe(String(process.pid));
    await state.close();
  });

  it('writes, locks and queue calls leave no lock file behind, and close() removes the client’s holder file', async () => {
    const dir = tempDir();
    const state = await openFile(dir);
    await state.write('a/b', 1);
    await state.update('a/b', (e) => (e?.value as number) + 1);
    const lock = await state.lock('res');
    await lock.release();
    const q = state.queue('work');
    await q.enqueue({ n: 1 });
    const job = await q.dequeue();
    await job!.ack();
    expect(lockFilesUnder(join(dir, 'ns'))).toEqual([]);
    expect(readdirSync(join(dir, 'ns/holders'))).toHaveLength(1);
    await state.close();
    expect(readdirSync(join(dir, 'ns/holders'))).toEqual([]);
  });
});
