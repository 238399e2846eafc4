import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

describe('agent-state lock', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  it('runs the command with the lease in its env, fencing tokens increase, and the exit code passes through', async () => {
    const show = ['bash', '-c', 'echo "$AGENT_STATE_LOCK_RESOURCE $AGENT_STATE_LOCK_TOKEN $AGENT_STATE_LOCK_OWNER"; exit 7'];
    const first = await project.cli(['lock', 'deploy', '--', ...show]);
    const second = await project.cli(['lock', 'deploy', '--', ...show]);
    expect(first.code).toBe(7);
    expect(second.code).toBe(7);
    const [r1, t1, o1] = first.stdout.trim().split(' ');
    const [, t2, o2] = second.stdout.trim().split(' ');
    expect(r1).toBe('deploy');
    expect(Number(t2)).toBeGreaterThan(Number(t1));
    expect(o1).not.toBe(o2);
  });

  it('a write with --fence succeeds under the lock and is refused (LOCK_LOST) outside it', async () => {
    const inside = await project.bash(`agent_state lock res -- "\${_AGENT_STATE_CMD[@]}" set --fence k 1; echo "rc=$?"`);
    expect(inside.stdout).toBe('rc=0\n');
    const outside = await project.cli(['set', '--fence', 'k', '2'], {
      env: { AGENT_STATE_LOCK_RESOURCE: 'res', AGENT_STATE_LOCK_OWNER: 'someone:1:x:1', AGENT_STATE_LOCK_TOKEN: '1' },
    });
    expect(outside.code).toBe(15);
    expect((await project.cli(['get', 'k'])).stdout).toBe('1\n');
  });

  it('a lease lost while the command runs is reported on stderr and exits LOCK_LOST after the command ends', async () => {
    const result = await project.bash(`
      "\${_AGENT_STATE_CMD[@]}" lock --ttl 300 shared -- bash -c 'touch started; until [[ -e go ]]; do sleep 0.05; done; echo command-finished' &
      holder=$!
      while [[ ! -e started ]]; do sleep 0.05; done
      kill -STOP "$holder"; sleep 0.8            # the lease runs out while the holder is frozen
      agent_state lock --wait 5000 shared -- true; echo "thief=$?"
      touch go                                   # the command ends only after the thief took the lock
      kill -CONT "$holder"
      wait "$holder"; echo "holder=$?"`);
    expect(result.stdout).toBe('thief=0\ncommand-finished\nholder=15\n');
    expect(result.stderr).toMatch(/^agent-state: LOCK_LOST: lock "shared"/m);
  });

  it('communication_backend_lock excludes others until _unlock, and _unlock releases exactly its lease', async () => {
    const result = await project.bash(`
      communication_backend_lock r 5 || exit 90
      agent_state lock --wait 0 r -- true; echo "while held=$?"
      communication_backend_unlock r; echo "unlock=$?"
      agent_state lock --wait 0 r -- true; echo "after=$?"`);
    expect(result.stdout).toBe('while held=14\nunlock=0\nafter=0\n');
  });

  it('_unlock of a lease that expired and was taken over returns LOCK_LOST and leaves the new holder its lock', async () => {
    const result = await project.bash(`
      communication_backend_lock r 5 0.3 || exit 90
      read -r _ _ holder _ <<<"\${_AGENT_STATE_LOCKS[r]}"
      kill -STOP "$holder"; sleep 0.8
      agent_state lock --wait 5000 r -- bash -c 'touch thief-has-it; sleep 2' & thief=$!
      while [[ ! -e thief-has-it ]]; do sleep 0.05; done
      kill -CONT "$holder"
      communication_backend_unlock r; echo "unlock=$?"
      agent_state lock --wait 0 r -- true; echo "still held by thief=$?"
      wait "$thief"; echo "thief=$?"`);
    expect(result.stdout).toBe('unlock=15\nstill held by thief=14\nthief=0\n');
  });

  it('a shell that exits without unlocking releases its lock, as a flock dies with its descriptor', async () => {
    const result = await project.bash(`
      bash -c 'source <(node "$AGENT_STATE_TEST_BIN" shell-functions); communication_backend_lock r 5 && echo locked; exit 0'
      agent_state lock --wait 5000 r -- true; echo "next=$?"`);
    expect(result.stdout).toBe('locked\nnext=0\n');
  });

  it('_unlock from another shell finds the holder through the lease file', async () => {
    const result = await project.bash(`
      communication_backend_lock r 5 || exit 90
      bash -c 'source <(node "$AGENT_STATE_TEST_BIN" shell-functions); communication_backend_unlock r'; echo "other shell unlock=$?"
      agent_state lock --wait 0 r -- true; echo "after=$?"`);
    expect(result.stdout).toBe('other shell unlock=0\nafter=0\n');
  });
});
