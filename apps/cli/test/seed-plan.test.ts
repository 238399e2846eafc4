/**
 * The seed plan's bash examples, run unchanged in spirit on the shell functions, with many OS
 * processes at once, on the backends that several processes can share. Counts are exact: any
 * lost update or double grant fails the test.
 *
 * The plan's test_concurrent_writes is 10 processes × 100 writes. Every write here is one
 * `agent-state` process start, which on this shared 2-core machine costs ~0.25 s of CPU, so the
 * default is 10 × 30; AGENT_STATE_CLI_STRESS=10x100 runs the plan's full size.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtBackends, makeProject, type Project } from './helpers.js';

const [P, N] = (process.env['AGENT_STATE_CLI_STRESS'] ?? '10x30').split('x').map(Number) as [number, number];
/** Generous: each write is a process start (~0.25 s of CPU here), P at a time on 2 cores. */
const STRESS_TIMEOUT_MS = 120_000 + P * N * 600;

for (const backend of ['file', 'sqlite'] as const) {
  describe.skipIf(!builtBackends[backend])(`the seed plan's examples on the ${backend} backend`, () => {
    let project: Project;
    beforeEach(() => {
      project = makeProject(backend);
    });
    afterEach(() => project.cleanup());

    it(`test_concurrent_writes: ${P} processes × ${N} update_task_assignments lose no assignment`, async () => {
      const result = await project.bash(`
        communication_backend_init 2>/dev/null || exit 90
        test_concurrent_writes ${P} ${N} || exit 91
        validate_task_assignments_consistency ${P * N}`);
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(`OK: ${P * N} task assignments\n`);
      expect(result.code).toBe(0);
    }, STRESS_TIMEOUT_MS);

    it(`${P} processes × ${N} communication_backend_increment end at exactly ${P * N}`, async () => {
      const result = await project.bash(`
        communication_backend_init 2>/dev/null || exit 90
        test_concurrent_increments ${P} ${N} counter`);
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(`${P * N}\n`);
    }, STRESS_TIMEOUT_MS);

    it("the plan's lock / read / write / unlock pattern keeps every line with 3 processes × 4 appends", async () => {
      const result = await project.bash(`
        communication_backend_init 2>/dev/null || exit 90
        test_concurrent_writes 3 4 update_task_assignments_locked || exit 91
        validate_lines task_assignments_md 12`);
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('OK: 12 lines in task_assignments_md\n');
    });

    it('the plan transaction (begin / read / write / commit, retried on CONFLICT) keeps every line with 3 processes × 4 appends', async () => {
      const result = await project.bash(`
        communication_backend_init 2>/dev/null || exit 90
        test_concurrent_writes 3 4 update_task_assignments_tx || exit 91
        validate_lines task_assignments_tx 12
        agent_state list @tx/ --keys | wc -l`);
      // Commits that lost the race say so (CONFLICT) and are re-run; nothing else may appear.
      expect(result.stderr.split('\n').filter((l) => l && !l.startsWith('agent-state: CONFLICT: '))).toEqual([]);
      expect(result.stdout).toBe('OK: 12 lines in task_assignments_tx\n0\n');
    });
  });
}
