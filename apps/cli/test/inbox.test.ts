/**
 * `agent-state send` and `agent-state inbox` through the real bin: the pre-turn hook's view of a
 * mailbox (messages printed once, acked, exit 1 when none).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

let project: Project | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

describe.each(['file', 'sqlite'] as const)('inbox and send on %s', (backend) => {
  it('send text or JSON, inbox prints and acks, then exits 1 with nothing printed', async () => {
    project = makeProject(backend);
    const sent = await project.cli(['send', 'guide-1', 'exec-1', 'please rerun experiment 7']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toHaveLength(1);
    expect((await project.cli(['send', 'guide-1', 'exec-1', '{"experiment":7}', '--json', '-p', 'high'])).code).toBe(0);
    const first = await project.cli(['inbox', 'exec-1']);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^message from guide-1 \(.+\): please rerun experiment 7$/);
    expect(lines[1]).toMatch(/priority 10\): \{"experiment":7\}$/);
    const empty = await project.cli(['inbox', 'exec-1']);
    expect(empty).toMatchObject({ code: 1, stdout: '', stderr: '' });
  });

  it('--peek leaves messages waiting; --json prints one JSON line each; bad ids are usage-level errors', async () => {
    project = makeProject(backend);
    await project.cli(['send', 'a', 'b', '-'], { stdin: 'from stdin\n' });
    const peek = await project.cli(['inbox', 'b', '--peek', '--json']);
    expect(JSON.parse(peek.stdout)).toMatchObject({ from: 'a', to: 'b', message: 'from stdin' });
    expect((await project.cli(['inbox', 'b'])).code).toBe(0);
    expect((await project.cli(['inbox', 'b'])).code).toBe(1);
    const bad = await project.cli(['inbox', '../x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/INVALID_KEY/);
    const badJson = await project.cli(['send', 'a', 'b', '{nope', '--json']);
    expect(badJson.stderr).toMatch(/INVALID_VALUE/);
  });
});
