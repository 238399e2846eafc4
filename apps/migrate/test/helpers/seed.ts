/**
 * A source worth migrating: user keys with TTLs, unicode and 1 MiB values, a queue with waiting,
 * claimed and delayed jobs, a dead letter, a user log, a channel's retained messages, a mailbox,
 * a registered agent and counters.
 */
import type { JsonValue, StateClient } from '@agent-state/core';

export interface SeedOptions {
  /** User entries (besides the coordination ones). */
  entries: number;
  /** How many of them hold a value of just under 1 MiB. */
  bigValues?: number;
}

/** What was seeded, to check on the target. */
export interface Seeded {
  userKeys: number;
  withTtl: number;
  bigValue: string;
}

export const UNICODE = 'héllo wörld — 日本語 ✓ 🚀 \u0000 "quoted" \\ back';

/** Writes the seed in transactions of 200 (fast on every backend). */
export async function seed(state: StateClient, options: SeedOptions): Promise<Seeded> {
  const big = 'x'.repeat(1024 * 1024 - 16);
  let withTtl = 0;
  const bigEvery = options.bigValues ? Math.floor(options.entries / options.bigValues) : 0;
  for (let i = 0; i < options.entries; i += 200) {
    await state.transaction((tx) => {
      for (let j = i; j < Math.min(options.entries, i + 200); j++) {
        const key = `${['tasks', 'agents-data', 'Zeta', '0-first'][j % 4]}/item-${String(j).padStart(6, '0')}`;
        let value: JsonValue = { n: j, text: `${UNICODE} ${j}`, nested: { list: [j, null, true, 1.5], empty: {} } };
        if (bigEvery && j % bigEvery === 1) value = big;
        else if (j % 7 === 0) value = j % 2 ? `plain ${UNICODE}` : j;
        const ttl = j % 5 === 0 ? 10 * 60_000 : undefined;
        if (ttl) withTtl++;
        tx.write(key, value, ttl ? { ttlMs: ttl } : undefined);
      }
    });
  }
  const queue = state.queue('work');
  for (let i = 0; i < 6; i++) await queue.enqueue({ job: i, label: UNICODE }, { priority: i % 2 ? 'high' : 'low' });
  // A claim whose consumer is gone (lease already over): copied back to pending.
  await queue.dequeue({ leaseMs: 1 });
  // A job still delayed for ten minutes, and one that ran out of attempts (a dead letter).
  await queue.enqueue({ job: 'later' }, { delayMs: 10 * 60_000 });
  const flaky = state.queue('flaky', { maxAttempts: 1 });
  await flaky.enqueue({ job: 'doomed' });
  await flaky.dequeue({ leaseMs: 1 });
  // Its lease ends at once; a backend may hand an ended lease back at a coarser time step (the
  // file backend's lease buckets), so claim again until the claim moves it aside, bounded.
  for (const deadline = Date.now() + 10_000; (await flaky.counts()).dead === 0; ) {
    if (Date.now() > deadline) throw new Error('seed: the flaky job did not become a dead letter within 10 s');
    if ((await flaky.dequeue({ leaseMs: 1 })) !== null) throw new Error('seed: a job past maxAttempts was handed out again');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Likewise the work queue's ended claim: the source must look idle (no live claim) to migrate.
  for (const deadline = Date.now() + 10_000; (await queue.counts()).inFlight > 0; ) {
    if (Date.now() > deadline) throw new Error('seed: the ended claim still counts as in flight after 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  // A user log and a channel's retained messages.
  const progress = state.log('progress');
  for (let step = 1; step <= 3; step++) await progress.append({ step, note: UNICODE });
  // Retained for ten minutes (the default is one): the shared sources serve pairs for minutes.
  await state.publish('updates', { n: 1 }, { retentionMs: 10 * 60_000 });
  await state.publish('updates', { n: 2 }, { retentionMs: 10 * 60_000 });
  await state.mailbox('alice').send('bob', { text: UNICODE });
  await state.mailbox('alice').send('bob', 'second', { priority: 'high' });
  // Registered, but silent: not "healthy" once 2 x 1 ms have passed.
  await state.agents.register('worker-1', { role: 'builder' }, { heartbeatIntervalMs: 1 });
  await state.increment('counters/runs', 41);
  await new Promise((r) => setTimeout(r, 20));
  return { userKeys: options.entries + 1, withTtl, bigValue: big };
}
