/**
 * The second-wave commands from the binary: blocking `queue pop --wait`, `log append|read|follow`,
 * `wait KEY --until-version N` and `repair KEY [--delete]`. Each blocking command is started
 * first and released by a later write, so the tests check outcomes, never timings.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

describe('waits and logs from the binary', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  const cli = (...args: string[]) => project.cli(args);

  it('queue pop --wait blocks until a job is pushed by another process, then prints it', async () => {
    const pop = cli('queue', 'pop', 'work', '--wait', '30s', '--ack', '--raw');
    // The pop may start before or after the push: either way it gets the job exactly once.
    expect((await cli('queue', 'push', 'work', '"late job"')).code).toBe(0);
    expect(await pop).toEqual({ code: 0, stdout: 'late job\n', stderr: '' });
    expect((await cli('queue', 'size', 'work')).stdout).toBe('0\n');
  });

  it('queue pop --wait on a queue that stays empty exits 1 with nothing printed', async () => {
    expect(await cli('queue', 'pop', 'idle', '--wait', '300')).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('log append prints increasing seqs; read prints them oldest first, after --after, up to --limit', async () => {
    const seqs: number[] = [];
    for (const record of ['{"step":1}', '{"step":2}', '"done"']) {
      const out = await cli('log', 'append', 'pipeline', record);
      expect(out.code).toBe(0);
      const { seq, at } = JSON.parse(out.stdout) as { seq: number; at: number };
      expect(typeof at).toBe('number');
      seqs.push(seq);
    }
    expect(seqs[1]! > seqs[0]! && seqs[2]! > seqs[1]!).toBe(true);
    const all = (await cli('log', 'read', 'pipeline')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(all.map((r) => r.record)).toEqual([{ step: 1 }, { step: 2 }, 'done']);
    expect(all.map((r) => r.seq)).toEqual(seqs);
    expect((await cli('log', 'read', 'pipeline', '--after', String(seqs[0]), '--limit', '1', '--record')).stdout).toBe('{"step":2}\n');
    expect((await cli('log', 'read', 'pipeline', '--after', String(seqs[1]), '--record', '--raw')).stdout).toBe('done\n');
    expect((await cli('log', 'read', 'empty')).stdout).toBe('');
  });

  it('log follow prints records appended by other processes, in order, and exits after --count', async () => {
    await cli('log', 'append', 'events', '"before"');
    const follow = cli('log', 'follow', 'events', '--after', '0', '--count', '3', '--record', '--raw');
    await cli('log', 'append', 'events', '"second"');
    await cli('log', 'append', 'events', '"third"');
    expect(await follow).toEqual({ code: 0, stdout: 'before\nsecond\nthird\n', stderr: '' });
  });

  it('wait --until-version returns once another process writes that version', async () => {
    await cli('set', 'status', '"starting"');
    const waiting = cli('wait', 'status', '--until-version', '3', '--timeout', '30s');
    await cli('set', 'status', '"building"');
    await cli('set', 'status', '"ready"');
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: 'status', value: 'ready', version: 3 });
    // Already there: at once; --value prints only the value.
    expect(await cli('wait', 'status', '--until-version', '2', '--value', '--raw')).toEqual({ code: 0, stdout: 'ready\n', stderr: '' });
  });

  it('wait exits TIMEOUT (20) with one line when the version is not reached in time', async () => {
    const result = await cli('wait', 'never', '--until-version', '1', '--timeout', '200');
    expect(result.code).toBe(20);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^agent-state: TIMEOUT: [^\n]+\n$/);
    expect((await cli('wait', 'never')).code).toBe(2); // --until-version is required
  });

  it('repair reports damage, --delete removes it and says what it replaced, then the key is writable again', async () => {
    expect((await cli('set', 'k', '1')).code).toBe(0);
    expect(JSON.parse((await cli('repair', 'k')).stdout)).toEqual({ key: 'k', removed: false, deleted: false });
    writeFileSync(join(project.dir, 'state/cli-test/data/k.json'), 'garbage');
    expect((await cli('set', 'k', '2')).code).toBe(18); // damaged data is never overwritten

    const check = await cli('repair', 'k');
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ key: 'k', removed: false, deleted: false, damage: expect.stringContaining('k') });
    expect(check.stderr).toMatch(/--delete/);

    const fixed = await cli('repair', 'k', '--delete');
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ key: 'k', removed: true, deleted: true });
    expect(fixed.stderr).toMatch(/^agent-state: repair: removed k/);
    expect((await cli('get', 'k')).code).toBe(1);
    expect((await cli('set', 'k', '3')).code).toBe(0);
    expect((await cli('get', 'k')).stdout).toBe('3\n');
  });
});
