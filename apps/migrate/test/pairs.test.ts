/**
 * Every ordered pair of the built backends: a full namespace (user keys with TTLs, unicode,
 * 1 MiB values, queues, mailboxes, agents, counters) moves from one to the other and arrives
 * complete, verified key by key. MIGRATE_TEST_ENTRIES sets the user entries per source for the
 * file/SQLite/Redis pairs (default 10 000). Pairs with Firebase use MIGRATE_TEST_FIREBASE_ENTRIES
 * (default 300): the firebase-server emulator is a single-threaded in-memory toy that takes
 * ~10 s per 300 entries, so 10 000 per pair would take tens of minutes on this machine.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/index.js';
import { availableBackends, freshStore, tempDir, type TestBackend, type TestStore } from './helpers/stores.js';
import { UNICODE, seed, type Seeded } from './helpers/seed.js';

const ENTRIES = Number(process.env['MIGRATE_TEST_ENTRIES'] ?? 10_000);
const FIREBASE_ENTRIES = Number(process.env['MIGRATE_TEST_FIREBASE_ENTRIES'] ?? 300);
const { available, skipped } = availableBackends();
for (const reason of skipped) console.log(`pairs: skipping ${reason}`);

describe.skipIf(available.length < 2)(`every ordered pair of ${available.join(', ')}`, () => {
  // Sources are seeded once and reused: a migration never modifies its source.
  const sources = new Map<string, { store: TestStore; seeded: Seeded }>();
  const cwd = tempDir();
  const small = (a: TestBackend, b: TestBackend) => a === 'firebase' || b === 'firebase';

  beforeAll(async () => {
    for (const backend of available) {
      for (const size of ['big', 'small'] as const) {
        if (size === 'big' && backend === 'firebase') continue;
        if (size === 'small' && !available.includes('firebase')) continue;
        const store = freshStore(backend);
        const state = await store.open();
        try {
          const seeded = await seed(state, size === 'big' ? { entries: ENTRIES, bigValues: 3 } : { entries: FIREBASE_ENTRIES, bigValues: 1 });
          sources.set(`${backend}/${size}`, { store, seeded });
        } finally {
          await state.close();
        }
      }
    }
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled([...sources.values()].map((s) => s.store.cleanup()));
    rmSync(cwd, { recursive: true, force: true });
  });

  for (const from of available) {
    for (const to of available) {
      if (from === to) continue;
      const entries = small(from, to) ? FIREBASE_ENTRIES : ENTRIES;
      it(`${from} → ${to} (${entries} entries): every entry, TTL, queue job and message arrives, verified`, async () => {
        const { store: source, seeded } = sources.get(`${from}/${small(from, to) ? 'small' : 'big'}`)!;
        const target = freshStore(to);
        try {
          const report = await migrate({
            cwd,
            fromConfig: source.writeConfig(cwd, `${from}-src`),
            toConfig: target.writeConfig(cwd, `${to}-dst`),
          });
          const expected = seeded.userKeys + 6 + 2 + 1 + 1 + 1; // user keys + jobs + mail + agent + queue seq + mail seq
          expect(report.ok).toBe(true);
          expect(report.copied).toBe(expected);
          expect(report.verify?.matched).toBe(expected);
          expect(report.verify?.differenceCount).toBe(0);
          expect(report.stats.leasedJobs).toBe(1);

          const state = await target.open();
          try {
            let ttls = 0;
            let users = 0;
            for await (const e of state.list()) {
              users++;
              if (e.expiresAt !== undefined) ttls++;
              expect(e.version).toBe(1);
            }
            expect(users).toBe(seeded.userKeys);
            expect(ttls).toBe(seeded.withTtl);
            const big = await state.read('agents-data/item-000001');
            expect(big?.value).toBe(seeded.bigValue);
            expect((await state.read('Zeta/item-000002'))?.value).toMatchObject({ text: `${UNICODE} 2` });
            expect((await state.read('counters/runs'))?.value).toBe(41);
            // Every job can be claimed on the target, the one that was claimed on the source included.
            const queue = state.queue('work');
            expect(await queue.size()).toBe(6);
            const claimed: number[] = [];
            for (let job = await queue.dequeue(); job; job = await queue.dequeue()) {
              claimed.push((job.payload as { job: number }).job);
              await job.ack();
            }
            expect(claimed.sort()).toEqual([0, 1, 2, 3, 4, 5]);
            // The next job gets a fresh sequence after the copied counter.
            expect((await queue.enqueue('after')).sequence).toBe(7);
            const mail = await state.mailbox('bob').receive();
            expect(mail.map((m) => m.message)).toEqual([{ text: UNICODE }, 'second']);
            expect((await state.agents.list()).map((a) => a.agentId)).toEqual(['worker-1']);
            expect(await state.read('@migration/progress')).toBeNull();
          } finally {
            await state.close();
          }
          // The source is untouched: no marker left, everything still there.
          const src = await source.open();
          try {
            expect(await src.read('@migration/active')).toBeNull();
            expect(await src.queue('work').size()).toBe(6);
          } finally {
            await src.close();
          }
        } finally {
          await target.cleanup();
        }
      });
    }
  }
});
