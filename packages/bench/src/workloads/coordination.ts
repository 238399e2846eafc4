/**
 * Locks, transactions, queues and pub/sub: the coordination workloads. Locks run on every subject
 * that has a lock (ours, proper-lockfile, raw Redis, redlock); the others need our client.
 */
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../harness/zipfian.js';
import type { Workload } from './types.js';

const ACCOUNTS = 100;
const START_BALANCE = 1_000;

export const COORDINATION_WORKLOADS: readonly Workload[] = [
  {
    id: 'lock',
    title: 'lock+release',
    description: 'Acquire then release a lock nobody else wants (uncontended).',
    needs: ['lockCycle'],
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject, ctx) {
      let n = 0;
      return { op: () => subject.lockCycle!(`locks/free-${ctx.processIndex}-${n++ % 8}`, { wait: false }) };
    },
  },
  {
    id: 'lock-contended',
    title: 'lock × processes',
    description: 'Several processes take and release the same lock; latency includes the wait.',
    needs: ['lockCycle'],
    axis: (p) => ({ inflight: 1, processes: p.processes }),
    async prepare(subject) {
      return { op: () => subject.lockCycle!('locks/contended', { wait: true }) };
    },
  },
  {
    id: 'transfer',
    title: 'transfer tx',
    description: `Transactions moving 1 between two of ${ACCOUNTS} accounts (read 2, write 2); the sum is checked at the end.`,
    needs: ['state'],
    axis: () => ({ inflight: 1, processes: 1 }),
    setup: {
      key: 'accounts',
      async run(subject) {
        for (let i = 0; i < ACCOUNTS; i++) await subject.state!.write(`bank/acct-${i}`, START_BALANCE);
      },
    },
    async prepare(subject, ctx) {
      const state = subject.state!;
      const random = seededRandom(ctx.seed);
      return {
        op: async () => {
          const a = Math.floor(random() * ACCOUNTS);
          const b = (a + 1 + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS;
          await state.transaction(async (tx) => {
            const from = (await tx.read(`bank/acct-${a}`))?.value as number;
            const to = (await tx.read(`bank/acct-${b}`))?.value as number;
            tx.write(`bank/acct-${a}`, from - 1);
            tx.write(`bank/acct-${b}`, to + 1);
          });
        },
        teardown: async () => {
          const entries = await state.readMany(Array.from({ length: ACCOUNTS }, (_, i) => `bank/acct-${i}`));
          const sum = entries.reduce((s, e) => s + ((e?.value as number | undefined) ?? 0), 0);
          if (sum !== ACCOUNTS * START_BALANCE) throw new Error(`transfers broke the invariant: sum ${sum}, expected ${ACCOUNTS * START_BALANCE}`);
        },
      };
    },
  },
  {
    id: 'pubsub',
    title: 'pub/sub delivery',
    description: 'Publish one message and wait for the subscriber (same process, woken by the backend) to get it; latency = publish call → handler.',
    needs: ['state'],
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject) {
      const state = subject.state!;
      let waiting: ((at: number) => void) | undefined;
      // No poll options: delivery rides the backend's own wakeup, as the swarm's does.
      const unsubscribe = await state.subscribe('bench', () => {
        const resolve = waiting;
        waiting = undefined;
        resolve?.(performance.now());
      });
      return {
        op: async () => {
          const sent = performance.now();
          const delivered = new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('a published message was not delivered within 10 s')), 10_000);
            waiting = (at) => {
              clearTimeout(timer);
              resolve(at);
            };
          });
          await state.publish('bench', { sent });
          return (await delivered) - sent;
        },
        teardown: () => unsubscribe(),
      };
    },
  },
];
