/**
 * pg-boss 12, the queue a Postgres user would pick instead: `send` one by one (awaited), then N
 * consumers pull with `fetch` (batch of 1) and `complete`, the same pull-and-settle loop as ours
 * (no worker polling interval: `work()` waits ≥ 0.5 s between fetches of a batch of 1). Its own
 * schema (`<run schema>_boss`), dropped with the run; scheduling and supervision off.
 */
import { performance } from 'node:perf_hooks';
import { postgresSchemaOf, postgresUrlFromEnv } from '../stores.js';
import type { QueueDrainOptions, StoreRef, Subject, SubjectSpec } from './types.js';

/** The schema pg-boss gets in a run (dropped by the run's cleanup). */
export const pgBossSchemaOf = (store: Pick<StoreRef, 'namespace'>): string => `${postgresSchemaOf(store)}_boss`;

export const pgBoss: SubjectSpec = {
  id: 'pg-boss',
  kind: 'peer',
  label: 'pg-boss 12: send awaited one by one, then N consumers fetch (batch 1) + complete',
  capabilities: ['queueDrain'],
  async open(store: StoreRef): Promise<Subject> {
    const { PgBoss } = await import('pg-boss');
    const boss = new PgBoss({
      connectionString: store.postgresUrl ?? postgresUrlFromEnv(),
      schema: pgBossSchemaOf(store),
      schedule: false,
      supervise: false,
    });
    boss.on('error', () => undefined);
    await boss.start();
    return {
      async queueDrain({ name, jobs, workers }: QueueDrainOptions) {
        await boss.createQueue(name);
        const t0 = performance.now();
        for (let n = 0; n < jobs; n++) await boss.send(name, { n });
        const t1 = performance.now();
        let done = 0;
        const consumer = async (): Promise<void> => {
          for (;;) {
            const [job] = await boss.fetch<{ n: number }>(name, { batchSize: 1 });
            if (!job) return;
            await boss.complete(name, job.id);
            done++;
          }
        };
        await Promise.all(Array.from({ length: workers }, consumer));
        const t2 = performance.now();
        if (done !== jobs) throw new Error(`pg-boss drained ${done} of ${jobs} jobs`);
        await boss.deleteQueue(name).catch(() => undefined);
        return { addMs: t1 - t0, processMs: t2 - t1 };
      },
      close: () => boss.stop({ graceful: false, timeout: 5_000 }),
    };
  },
};
