/**
 * Queue workloads (issue 13): the enqueue→claim→ack cycle (file: against one raw durable write),
 * the claim cost at a small queue, behind a big backlog and behind jobs held in flight, and
 * add + process of a backlog with 1 and 8 consumers against BullMQ on the same Redis.
 */
import { performance } from 'node:perf_hooks';
import type { Profile } from '../profile.js';
import type { Workload } from './types.js';

/** How the claim-cost queues are filled: `waiting` jobs visible, `held` claimed and never acked. */
interface ClaimShape {
  id: string;
  title: string;
  waiting: (p: Profile) => number;
  held: (p: Profile) => number;
}

const CLAIM_SHAPES: readonly ClaimShape[] = [
  { id: 'claim-small', title: 'claim, small queue', waiting: (p) => p.claim.base, held: () => 0 },
  { id: 'claim-backlog', title: 'claim, big backlog', waiting: (p) => p.claim.backlog, held: () => 0 },
  { id: 'claim-inflight', title: 'claim behind in-flight', waiting: (p) => p.claim.base, held: (p) => p.claim.inflight },
];

/** Runs `one(0..count-1)` with 16 in flight (filling a big queue over a network store takes minutes one by one). */
async function fill(count: number, one: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(16, count) }, lane));
}

/**
 * Jobs per drain round: the profile's on Redis (where BullMQ runs beside us) and SQLite; at most
 * 500 on files (every step is fsynced) and on the Firebase emulator, which have no peer here.
 */
export function drainJobsFor(backend: string, profile: Profile): number {
  return backend === 'file' || backend === 'firebase' ? Math.min(500, profile.drainJobs) : profile.drainJobs;
}

const claimWorkload = (shape: ClaimShape): Workload => ({
  id: shape.id,
  title: shape.title,
  description:
    `Per-claim cost: dequeue + ack of the oldest job, then one enqueue to keep the queue's size (only the claim + ack is timed); ` +
    `the queue holds ${shape.id === 'claim-backlog' ? 'the big backlog (10,000 in a full run)' : 'a small queue (100)'}` +
    `${shape.id === 'claim-inflight' ? ' behind jobs claimed and never acked (1,000 in a full run)' : ''}.`,
  needs: ['state'],
  axis: () => ({ inflight: 1, processes: 1 }),
  async prepare(subject, ctx) {
    const queue = subject.state!.queue(`${shape.id}-${ctx.processIndex}`);
    const held = shape.held(ctx.profile);
    await fill(held, (n) => queue.enqueue({ held: n }));
    for (let n = 0; n < held; n++) {
      // Claimed for longer than any run, so they stay in flight ahead of the waiting jobs.
      if (!(await queue.dequeue({ leaseMs: 3_600_000 }))) throw new Error(`only ${n} of ${held} jobs could be put in flight`);
    }
    const waiting = shape.waiting(ctx.profile);
    await fill(waiting, (n) => queue.enqueue({ n }));
    let next = waiting;
    return {
      op: async () => {
        const t0 = performance.now();
        const job = await queue.dequeue({ leaseMs: 60_000 });
        if (!job) throw new Error(`${shape.id}: the queue ran dry`);
        await job.ack();
        const claimMs = performance.now() - t0;
        await queue.enqueue({ n: next++ });
        return claimMs;
      },
    };
  },
});

const drainWorkload = (workers: number): Workload => ({
  id: `queue-drain-${workers}`,
  title: `add+process, ${workers} worker${workers > 1 ? 's' : ''}`,
  description:
    `Add a backlog one job at a time (awaited), then ${workers} consumer${workers > 1 ? 's' : ''} in one process take and ack every job; ` +
    'jobs/s = jobs ÷ (add + process time). Ours and BullMQ on the same Redis, alternating rounds.',
  needs: ['queueDrain'],
  axis: () => ({ inflight: workers, processes: 1 }),
  async sample(subject, ctx) {
    const jobs = drainJobsFor(ctx.store.backend, ctx.profile);
    const { addMs, processMs } = await subject.queueDrain!({ name: `drain-${workers}-${ctx.round}-${Date.now().toString(36)}`, jobs, workers });
    return {
      ops: jobs,
      elapsedMs: addMs + processMs,
      facts: { jobs, 'add/s': Math.round((jobs * 1000) / addMs), 'process/s': Math.round((jobs * 1000) / processMs) },
    };
  },
});

export const QUEUE_WORKLOADS: readonly Workload[] = [
  {
    id: 'queue',
    title: 'queue cycle',
    description: 'enqueue → dequeue → ack of one job (one op = the cycle); on files beside one raw durable write (the ratio target).',
    needs: ['queueCycle'],
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject, ctx) {
      const name = `bench-${ctx.processIndex}`;
      return { op: () => subject.queueCycle!(name) };
    },
  },
  ...CLAIM_SHAPES.map(claimWorkload),
  drainWorkload(1),
  drainWorkload(8),
];
