/**
 * BullMQ 5, the queue our Redis users would pick instead: `Queue.add` one by one (awaited), then
 * `workers` Worker instances (concurrency 1 each, their own connections, started after the adds)
 * process them with an empty processor. Jobs are removed on completion, as our acked jobs are.
 */
import { performance } from 'node:perf_hooks';
import type { QueueDrainOptions, StoreRef, Subject, SubjectSpec } from './types.js';

/** ioredis options from a redis:// URL (BullMQ workers need maxRetriesPerRequest: null). */
function connectionOf(url: string): { host: string; port: number; password?: string; username?: string; db?: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(db !== undefined && Number.isInteger(db) && { db }),
    maxRetriesPerRequest: null,
  };
}

const DRAIN_DEADLINE_MS = 300_000;

export const bullmq: SubjectSpec = {
  id: 'bullmq',
  kind: 'peer',
  label: 'BullMQ 5: Queue.add awaited one by one, then N Workers (concurrency 1), removeOnComplete',
  capabilities: ['queueDrain'],
  async open(store: StoreRef): Promise<Subject> {
    const { Queue, Worker } = await import('bullmq');
    const connection = connectionOf(store.redisUrl ?? 'redis://127.0.0.1:6379');
    // The namespace is in the prefix, so the run's cleanup (SCAN *namespace*) removes every key.
    const prefix = `${store.namespace}:bull`;
    return {
      async queueDrain({ name, jobs, workers }: QueueDrainOptions) {
        const queue = new Queue(name, { connection, prefix });
        const started = Array.from(
          { length: workers },
          () => new Worker(name, async () => undefined, { connection, prefix, concurrency: 1, autorun: false }),
        );
        try {
          await queue.waitUntilReady();
          await Promise.all(started.map((w) => w.waitUntilReady()));
          const t0 = performance.now();
          for (let n = 0; n < jobs; n++) await queue.add('job', { n }, { removeOnComplete: true, removeOnFail: true });
          const t1 = performance.now();
          let done = 0;
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`BullMQ processed ${done} of ${jobs} jobs within ${DRAIN_DEADLINE_MS} ms`)), DRAIN_DEADLINE_MS);
            for (const w of started) {
              w.on('completed', () => {
                if (++done === jobs) {
                  clearTimeout(timer);
                  resolve();
                }
              });
              w.on('failed', (_job, error) => {
                clearTimeout(timer);
                reject(error);
              });
              w.run().catch(reject);
            }
          });
          const t2 = performance.now();
          return { addMs: t1 - t0, processMs: t2 - t1 };
        } finally {
          await Promise.all(started.map((w) => w.close()));
          await queue.obliterate({ force: true }).catch(() => undefined);
          await queue.close();
        }
      },
      close: async () => undefined,
    };
  },
};
