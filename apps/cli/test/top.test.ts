/** `agent-state top`: the dashboard's picture in the terminal (`--once`, and q / end of stdin quits). */
import { afterEach, describe, expect, it } from 'vitest';
import { openState } from '@agent-state/core';
import { makeProject, type Project } from './helpers.js';

let project: Project | undefined;
afterEach(() => project?.cleanup());

async function seed(dir: string): Promise<void> {
  const state = await openState({ cwd: dir, env: {} });
  try {
    await state.agents.register('planner', { role: 'planner' }, { heartbeatIntervalMs: 60_000 });
    const q = state.queue('builds');
    for (const n of [1, 2, 3]) await q.enqueue({ task: `build-${n}` });
    await q.dequeue({ leaseMs: 60_000 });
    await state.log('progress').append({ step: 'compiled' });
  } finally {
    await state.close();
  }
}

describe('agent-state top', () => {
  it('--once prints agents, queue figures and log tails, without ANSI codes when not a terminal', async () => {
    project = makeProject('sqlite');
    await seed(project.dir);
    const r = await project.cli(['top', '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stdout).toMatch(/planner\s+healthy/);
    // queue, waiting, in flight, delayed, dead
    expect(r.stdout).toMatch(/builds\s+2\s+1\s+0\s+0/);
    expect(r.stdout).toContain('progress');
    expect(r.stdout).toContain('compiled');
  });

  it('--once lists every lease held in the store, one held by another client included, and none once released', async () => {
    project = makeProject('sqlite');
    const holder = await openState({ cwd: project.dir, env: {} });
    try {
      const lease = await holder.lock('deploy/prod', { ttlMs: 60_000 });
      const r = await project.cli(['top', '--once']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/LOCKS HELD \(1\)\s+every holder/);
      expect(r.stdout).toMatch(new RegExp(`deploy/prod\\s+${lease.owner.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${lease.token}\\s+\\d`));
      expect(r.stdout).not.toContain('through this process');
      await lease.release();
      const after = await project.cli(['top', '--once']);
      expect(after.code).toBe(0);
      expect(after.stdout).toMatch(/LOCKS HELD \(0\)\s+every holder/);
      expect(after.stdout).toContain('none held');
      expect(after.stdout).not.toContain('deploy/prod');
    } finally {
      await holder.close();
    }
  });

  it('refreshing: ends on q (and at the end of stdin), exit 0', async () => {
    project = makeProject('file');
    await seed(project.dir);
    const r = await project.cli(['top', '--interval', '200ms'], { stdin: 'q' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('builds');
  });

  it('a bad --interval is a usage error before any I/O', async () => {
    project = makeProject('file');
    const r = await project.cli(['top', '--interval', 'soon']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--interval');
  });
});
