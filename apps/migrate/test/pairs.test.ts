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
          // Keys: the user keys and the agent. Every backend keeps queues and logs natively, so
          // the 7 jobs, the dead letter, 2 mail messages, 3 log records, 2 retained channel
          // messages and the source's audit log (one record per migration started from this
          // shared source so far, this one included) are copied as family items.
          const expectedKeys = seeded.userKeys + 1;
          const audit = await countAudit(source);
          expect(audit).toBeGreaterThanOrEqual(1);
          const familyItems = 7 + 1 + 2 + 3 + 2 + audit;
          expect(report.ok).toBe(true);
          expect(report.copied).toBe(expectedKeys);
          expect(report.familyItems).toBe(familyItems);
          expect(report.verify?.matched).toBe(expectedKeys + familyItems);
          expect(report.verify?.differenceCount).toBe(0);
          // Scanned before this run's audit record.
          expect(report.stats.native).toMatchObject({ queues: 2, jobs: 7, deadLetters: 1, records: 7 + audit - 1 });

          const state = await target.open();
          try {
            let ttls = 0;
            let users = 0;
            for await (const e of state.list()) {
              users++;
              if (e.expiresAt !== undefined) ttls++;
              // Written once by the copy. Redis raises its namespace's version floor at every
              // TTL write (it expires keys itself, with no hook to raise it then), so a key
              // written after one starts above 1 there; elsewhere a fresh store starts at 1.
              if (to === 'redis') expect(e.version).toBeGreaterThanOrEqual(1);
              else expect(e.version).toBe(1);
            }
            expect(users).toBe(seeded.userKeys);
            expect(ttls).toBe(seeded.withTtl);
            const big = await state.read('agents-data/item-000001');
            expect(big?.value).toBe(seeded.bigValue);
            expect((await state.read('Zeta/item-000002'))?.value).toMatchObject({ text: `${UNICODE} 2` });
            expect((await state.read('counters/runs'))?.value).toBe(41);
            // Every job can be claimed on the target, the one that was claimed on the source included.
            const queue = state.queue('work');
            expect(await queue.counts()).toMatchObject({ waiting: 6, inFlight: 0, delayed: 1, dead: 0 });
            const claimed: number[] = [];
            for (let job = await queue.dequeue(); job; job = await queue.dequeue()) {
              claimed.push((job.payload as { job: number }).job);
              await job.ack();
            }
            expect(claimed.sort()).toEqual([0, 1, 2, 3, 4, 5]);
            // The next job gets a fresh sequence after the copied counter.
            expect((await queue.enqueue('after')).sequence).toBe(8); // after the 7 copied jobs of this queue
            const dead = await state.queue('flaky').deadLetters();
            expect(dead.map((d) => d.payload)).toEqual([{ job: 'doomed' }]);
            const records = [];
            for await (const r of state.log('progress').read()) records.push(r.record);
            expect(records).toEqual([1, 2, 3].map((step) => ({ step, note: UNICODE })));
            const replayed: unknown[] = [];
            const sub = await state.subscribe('updates', (m) => void replayed.push(m), { after: 0 });
            await expect.poll(() => replayed.length, { timeout: 10_000 }).toBe(2);
            await sub.close();
            expect(replayed).toEqual([{ n: 1 }, { n: 2 }]);
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
            expect(await src.queue('work').size()).toBe(7);
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

/** Records in a store's audit log (each migration started from it appends one). */
async function countAudit(store: { open(): Promise<import('@agent-state/core').StateClient> }): Promise<number> {
  const state = await store.open();
  try {
    let n = 0;
    for await (const _ of state.log('audit').read()) n++;
    return n;
  } finally {
    await state.close();
  }
}
