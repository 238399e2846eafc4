import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

describe('tx across separate invocations', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  const cli = (...args: string[]) => project.cli(args);

  it('commit applies every buffered write and delete at once and leaves no transaction record', async () => {
    await cli('set', 'a', '10');
    await cli('set', 'c', '"old"');
    const id = (await cli('tx', 'begin')).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect((await cli('tx', 'read', id, 'a')).stdout).toBe('10\n');
    await cli('tx', 'write', id, 'a', '11');
    await cli('tx', 'write', id, 'b', '"new"');
    await cli('tx', 'delete', id, 'c');
    expect((await cli('tx', 'read', id, 'a')).stdout).toBe('11\n'); // reads see the buffered write
    expect((await cli('get', 'a')).stdout).toBe('10\n'); // nothing visible before commit
    expect(await cli('tx', 'commit', id, '--json')).toMatchObject({ code: 0, stdout: '{"committed":true,"writes":3}\n' });
    expect((await cli('get', 'a')).stdout).toBe('11\n');
    expect((await cli('get', 'b')).stdout).toBe('"new"\n');
    expect((await cli('get', 'c')).code).toBe(1);
    expect((await cli('list', '@tx/')).stdout).toBe('');
    expect((await cli('tx', 'commit', id)).code).toBe(11); // committed once, never twice
  });

  it('a read that went stale makes commit exit CONFLICT (13) with nothing written', async () => {
    await cli('set', 'balance', '100');
    const id = (await cli('tx', 'begin')).stdout.trim();
    await cli('tx', 'read', id, 'balance');
    await cli('tx', 'read', id, 'absent-key');
    await cli('tx', 'write', id, 'balance', '50');
    await cli('tx', 'write', id, 'audit', '"moved 50"');
    await cli('set', 'balance', '90'); // another writer gets in between
    const commit = await cli('tx', 'commit', id);
    expect(commit.code).toBe(13);
    expect(commit.stdout).toBe('');
    expect(commit.stderr).toMatch(/^agent-state: CONFLICT: conflict on "balance": expected version 1, found 2\n$/);
    expect((await cli('get', 'balance')).stdout).toBe('90\n');
    expect((await cli('get', 'audit')).code).toBe(1);
  });

  it('a key read as absent that appears before commit is a conflict too', async () => {
    const id = (await cli('tx', 'begin')).stdout.trim();
    expect((await cli('tx', 'read', id, 'slot')).code).toBe(1);
    await cli('tx', 'write', id, 'slot', '"mine"');
    await cli('set', 'slot', '"theirs"');
    expect((await cli('tx', 'commit', id)).code).toBe(13);
    expect((await cli('get', 'slot')).stdout).toBe('"theirs"\n');
  });

  it('rollback discards everything; an unknown id is INVALID_VALUE', async () => {
    const id = (await cli('tx', 'begin')).stdout.trim();
    await cli('tx', 'write', id, 'x', '1');
    expect((await cli('tx', 'rollback', id)).code).toBe(0);
    expect((await cli('tx', 'commit', id)).code).toBe(11);
    expect((await cli('get', 'x')).code).toBe(1);
    expect((await cli('tx', 'write', 'feedfacefeedface', 'x', '1')).code).toBe(11);
  });

  it('the shell functions run the plan transaction: begin, read, write, commit; a conflict is reported as 13', async () => {
    const result = await project.bash(`
      communication_backend_write status "idle"
      communication_backend_transaction_begin 2>/dev/null
      s=$(communication_backend_read status)
      communication_backend_write status "busy (was $s)"
      communication_backend_write owner "agent-7"
      communication_backend_transaction_commit; echo "commit=$?"
      echo "$(communication_backend_read status) / $(communication_backend_read owner)"
      communication_backend_transaction_begin 2>/dev/null
      communication_backend_read status >/dev/null
      communication_backend_write status "lost"
      ( unset AGENT_STATE_TX; communication_backend_write status "changed elsewhere" )
      communication_backend_transaction_commit 2>/dev/null; echo "stale commit=$?"
      communication_backend_read status`);
    expect(result.stdout).toBe('commit=0\nbusy (was idle) / agent-7\nstale commit=13\nchanged elsewhere\n');
  });
});
