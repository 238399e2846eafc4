/**
 * The Python client (clients/python/agent_state.py, standard library only) against a real server
 * on every backend this machine has (Redis when it answers; under CI=true it must), with the
 * machine's `python3`; and the executor/guide example run as real processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, makeProject, redisAnswers, startServer, type ServerProcess, type TestBackend, type TestProject } from './helpers.js';

const PY_DIR = join(REPO, 'clients/python');
const EXAMPLES = join(REPO, 'examples/python-experiments');
const TOKEN = 'python-test-token-0123456789abcdef';
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = python.status === 0;
if (!hasPython && process.env['CI'] === 'true') throw new Error('CI=true but python3 is not on PATH');
const backends: TestBackend[] = ['file', 'sqlite', ...((await redisAnswers()) ? (['redis'] as const) : [])];

function py(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const proc = spawn('python3', args, { cwd, env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`python3 ${args.join(' ')} did not finish within ${timeoutMs} ms: ${stdout} ${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!hasPython).each(backends)('python client on %s', (backend) => {
  let project: TestProject;
  let server: ServerProcess;
  beforeAll(async () => {
    project = makeProject(backend);
    server = await startServer(project, { env: { AGENT_STATE_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await server?.stop();
    await project?.cleanup();
  });

  it('passes its unittest suite', async () => {
    const r = await py(['-m', 'unittest', '-v', 'test_agent_state.py'], PY_DIR, { AGENT_STATE_URL: server.url, AGENT_STATE_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Ran 10 tests/);
    expect(r.stderr).not.toMatch(/skipped/);
  });

  it('runs the executor/guide example: the guide follows progress live, a second executor is refused', async () => {
    const env = { AGENT_STATE_URL: server.url, AGENT_STATE_TOKEN: TOKEN };
    const guide = py(['guide.py', 'exp7', '--timeout', '60'], EXAMPLES, env);
    const executor = py(['executor.py', 'exp7', '--steps', '5', '--step-seconds', '0.6'], EXAMPLES, env);
    // While the first executor runs (it marks the registry "running" once it holds the lock), a
    // second is refused. Wait for that mark, not for a guessed time: Python starts slowly under load.
    for (const deadline = Date.now() + 30_000; ; ) {
      const r = await server.call('GET', '/v1/keys/registry/exp7');
      if (r.status === 200 && (r.body as { value?: { status?: string } }).value?.status === 'running') break;
      if (Date.now() > deadline) throw new Error('the first executor did not mark registry/exp7 running within 30 s');
      await new Promise((res) => setTimeout(res, 50));
    }
    const second = await py(['executor.py', 'exp7', '--agent', 'executor_02', '--steps', '1'], EXAMPLES, env);
    const [g, e] = await Promise.all([guide, executor]);
    expect(e.code, e.stderr).toBe(0);
    expect(g.code, g.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(3);
    expect(second.stdout).toContain('already running');
    expect(g.stdout).toContain('executor_01 started (5 steps)');
    expect(g.stdout).toMatch(/step 5\/5 score/);
    expect(g.stdout).toContain('experiment exp7 validated');
    // The guide's review waits in the executor's mailbox for its next turn.
    const inbox = await server.call('GET', '/v1/mailboxes/executor_01/messages');
    expect(inbox.body.messages[0].message).toMatch(/^exp7 reviewed: ok/);
  });
});
