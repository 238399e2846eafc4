/**
 * A migration killed with SIGKILL in the middle of the copy, started again with --resume,
 * finishes with every entry copied exactly once: the count matches, verify finds no
 * difference, and every target entry has version 1 (an entry written twice would have 2), and
 * the native queue and mailbox hold each job and message once.
 */
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { availableBackends, freshStore, tempDir, type TestBackend } from './helpers/stores.js';
import { seed } from './helpers/seed.js';
import { spawnBin } from './helpers/bin.js';

const ENTRIES = Number(process.env['MIGRATE_TEST_RESUME_ENTRIES'] ?? 4_000);
const { available } = availableBackends();
const pairs: [TestBackend, TestBackend][] = (
  [
    ['file', 'sqlite'],
    // Into SQLite, not Redis: Redis raises its version floor at TTL writes, so there a key
    // written once may start above 1 and "version 1" could not tell a double write.
    ['redis', 'sqlite'],
  ] as [TestBackend, TestBackend][]
).filter(([a, b]) => available.includes(a) && available.includes(b));

describe.skipIf(pairs.length === 0)('kill -9 and --resume', () => {
  const cwd = tempDir();
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  for (const [from, to] of pairs) {
    it(`${from} → ${to}: a run killed with SIGKILL mid-copy and resumed copies every entry exactly once`, async () => {
      const source = freshStore(from);
      const target = freshStore(to);
      try {
        const state = await source.open();
        await seed(state, { entries: ENTRIES });
        await state.close();
        const args = ['--from-config', source.writeConfig(cwd, `${from}-src`), '--to-config', target.writeConfig(cwd, `${to}-dst`), '--batch-size', '25', '--lock-ttl', '2000', '--json'];
        const checkpointFile = join(cwd, '.agent-state-migrate', `${from}-src-${to}-dst.checkpoint.json`);

        const first = spawnBin(args, cwd);
        // Kill it once some batches are committed, well before the end.
        let copiedAtKill = 0;
        for (let i = 0; i < 600 && copiedAtKill < 300; i++) {
          await new Promise((r) => setTimeout(r, 50));
          if (existsSync(checkpointFile)) {
            try {
              copiedAtKill = (JSON.parse(readFileSync(checkpointFile, 'utf8')) as { copied: number }).copied;
            } catch {
              // Read while being renamed into place: try again.
            }
          }
        }
        first.child.kill('SIGKILL');
        const killed = await first.done;
        expect(killed.signal).toBe('SIGKILL');
        expect(copiedAtKill).toBeGreaterThan(0);
        expect(copiedAtKill).toBeLessThan(ENTRIES);

        // Without --resume the interruption is reported, with the command that finishes it.
        const refused = await spawnBin(args, cwd).done;
        expect(refused.code).toBe(9);
        expect(refused.stderr).toContain('--resume');

        const resumed = await spawnBin([...args, '--resume'], cwd).done;
        expect(resumed.stderr).toBe('');
        expect(resumed.code).toBe(0);
        const report = JSON.parse(resumed.stdout) as { copied: number; familyItems: number; resumed: boolean; verify: { ok: boolean; matched: number } };
        // Keys: the entries, the counter and the agent; the jobs, the dead letter, the mail, log
        // records and channel messages live natively and are copied (again, whole) by the
        // resumed run.
        const expected = ENTRIES + 1 + 1;
        expect(report.resumed).toBe(true);
        expect(report.copied).toBe(expected);
        expect(report.verify.ok).toBe(true);
        expect(existsSync(checkpointFile)).toBe(false);

        const out = await target.open();
        try {
          // The audit log holds both runs' migration.start and, where the backend reports it,
          // the resumed run's takeover of the killed run's migration lock (lock.takeover); the
          // copy carries every one of them.
          const audit: string[] = [];
          for await (const r of out.log<{ action: string }>('audit').read()) audit.push(r.record.action);
          expect(audit.filter((a) => a === 'migration.start')).toHaveLength(2);
          expect(audit.filter((a) => a !== 'migration.start' && a !== 'lock.takeover')).toEqual([]);
          expect(audit.filter((a) => a === 'lock.takeover').length).toBeLessThanOrEqual(1);
          expect(report.familyItems).toBe(15 + audit.length);
          expect(report.verify.matched).toBe(expected + 15 + audit.length);
          let n = 0;
          const twice: string[] = [];
          for (const prefix of [undefined, '@']) {
            for await (const e of out.list(prefix ? { prefix } : undefined)) {
              n++;
              if (e.version !== 1) twice.push(e.key);
            }
          }
          expect(twice).toEqual([]);
          expect(n).toBe(expected);
          expect(await out.queue('work').counts()).toMatchObject({ waiting: 6, inFlight: 0, delayed: 1, dead: 0 });
          expect(await out.queue('flaky').deadLetters()).toHaveLength(1);
          expect(await out.mailbox('bob').receive()).toHaveLength(2);
        } finally {
          await out.close();
        }
      } finally {
        await Promise.allSettled([source.cleanup(), target.cleanup()]);
      }
    });
  }
});
