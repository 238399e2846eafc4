import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

describe('queues, pub/sub and agents from the binary', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  const cli = (...args: string[]) => project.cli(args);

  it('pop serves priority then sequence; ack in a separate invocation with JOB_ID LEASE_ID; ack twice is harmless', async () => {
    await cli('queue', 'push', 'work', '"low"', '-p', 'low');
    await cli('queue', 'push', 'work', '"first"');
    await cli('queue', 'push', 'work', '"urgent"', '-p', 'high');
    expect((await cli('queue', 'size', 'work')).stdout).toBe('3\n');
    const job = JSON.parse((await cli('queue', 'pop', 'work')).stdout);
    expect(job).toMatchObject({ queue: 'work', payload: 'urgent', attempts: 1 });
    expect(job.leaseId).toMatch(/^\S+$/); // one shell word: the shell functions read it with `read`
    expect((await cli('queue', 'ack', 'work', job.id, job.leaseId)).code).toBe(0);
    expect((await cli('queue', 'ack', 'work', job.id, job.leaseId)).code).toBe(1);
    expect((await cli('queue', 'pop', 'work', '--ack', '--raw')).stdout).toBe('first\n');
    expect((await cli('queue', 'size', 'work')).stdout).toBe('1\n');
  });

  it('an unacked job comes back after its lease with attempts counted; an empty queue exits 1', async () => {
    await cli('queue', 'push', 'q', '{"cmd":"build"}');
    const first = JSON.parse((await cli('queue', 'pop', 'q', '--lease', '4s')).stdout);
    expect((await cli('queue', 'pop', 'q')).code).toBe(1);
    const again = JSON.parse((await cli('queue', 'pop', 'q', '--wait', '20s')).stdout); // polls until the lease ends
    expect(again).toMatchObject({ id: first.id, attempts: 2 });
    expect((await cli('queue', 'ack', 'q', first.id, first.leaseId)).code).toBe(1); // the old claim is void
  });

  it("the plan's enqueue_command/dequeue_command keep priority order and hand out each command once", async () => {
    const result = await project.bash(`
      enqueue_command backend "make test"
      enqueue_command backend "deploy hotfix" high
      enqueue_command backend "tidy logs" low
      while cmd=$(dequeue_command backend); do echo "got: $cmd"; done
      echo "left: $(communication_backend_queue_size agent_commands_backend)"`);
    expect(result.stdout).toBe(
      'Command enqueued with sequence 1\nCommand enqueued with sequence 2\nCommand enqueued with sequence 3\n' +
        'got: deploy hotfix\ngot: make test\ngot: tidy logs\nleft: 0\n',
    );
  });

  it('subscribe prints every message published after it started, in order, until SIGTERM, then exits 0', async () => {
    const result = await project.bash(`
      "\${_AGENT_STATE_CMD[@]}" subscribe events --ready-file ready > received &
      sub=$!
      while [[ ! -e ready ]]; do sleep 0.05; done
      for i in 1 2 3; do agent_state publish events "{\\"n\\":$i}" >/dev/null; done
      agent_state publish --string events "done" >/dev/null
      while ! grep -q done received; do sleep 0.05; done
      kill -TERM "$sub"; wait "$sub"; echo "exit=$?"
      cat received`);
    expect(result.stdout).toBe('exit=0\n{"n":1}\n{"n":2}\n{"n":3}\n"done"\n');
    expect(existsSync(join(project.dir, 'ready'))).toBe(true);
  });

  it('agents register, heartbeat and list with a status', async () => {
    await cli('agents', 'register', 'agent-7', '{"role":"backend"}');
    await cli('agents', 'heartbeat', 'agent-7', '{"load":0.5}');
    const agents = (await cli('agents', 'list')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(agents).toHaveLength(1);
    expect(agents[0]).toMatchObject({ agentId: 'agent-7', info: { role: 'backend' }, metrics: { load: 0.5 }, status: 'healthy' });
  });
});
