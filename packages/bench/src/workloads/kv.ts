/**
 * Key-value workloads: the YCSB core mixes A, B, C, F (1 KB values, scrambled zipfian keys),
 * pure updates, pure read-modify-writes, the seed plan's write-then-read benchmark.
 */
import { ScrambledZipfianGenerator, seededRandom } from '../harness/zipfian.js';
import type { Profile } from '../profile.js';
import type { Subject } from '../subjects/types.js';
import type { Axis, OperationContext, PreparedOperation, Workload } from './types.js';

/** A YCSB record: 10 fields of 100 bytes (1 KB). A few variants rotate so writes change data. */
export function makeRecords(count: number, seed = 7): Record<string, string>[] {
  const random = seededRandom(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from({ length: count }, () => {
    const record: Record<string, string> = {};
    for (let f = 0; f < 10; f++) {
      let text = '';
      for (let i = 0; i < 100; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      record[`field${f}`] = text;
    }
    return record;
  });
}

const VALUES = makeRecords(16);
const userKey = (i: number): string => `usertable/user${String(i).padStart(8, '0')}`;

/** Preloads the YCSB table once per subject. */
const preload = {
  key: 'ycsb-table',
  async run(subject: Subject, profile: Profile): Promise<void> {
    for (let i = 0; i < profile.records; i++) await subject.write!(userKey(i), VALUES[i % VALUES.length]);
  },
};

type Mix = { read: number; update: number; rmw: number };

function ycsbOperation(mix: Mix) {
  return async (subject: Subject, ctx: OperationContext): Promise<PreparedOperation> => {
    const random = seededRandom(ctx.seed);
    const keys = new ScrambledZipfianGenerator(ctx.profile.records, { random: seededRandom(ctx.seed + 1) });
    let n = 0;
    return {
      op: async () => {
        const key = userKey(keys.next());
        const u = random();
        if (u < mix.read) await subject.read!(key);
        else if (u < mix.read + mix.update) await subject.write!(key, VALUES[n++ % VALUES.length]);
        else {
          await subject.rmw!(key, (value) => ({ ...(value as Record<string, string>), field0: VALUES[n++ % VALUES.length]!.field0! }));
        }
      },
    };
  };
}

const single = (_profile: Profile): Axis => ({ inflight: 1, processes: 1 });

function ycsb(id: string, title: string, description: string, mix: Mix, axis = single): Workload {
  const needs = [...(mix.read > 0 ? (['read'] as const) : []), ...(mix.update > 0 ? (['write'] as const) : []), ...(mix.rmw > 0 ? (['rmw'] as const) : [])];
  return { id, title, description, needs, axis, setup: preload, prepare: ycsbOperation(mix) };
}

export const KV_WORKLOADS: readonly Workload[] = [
  ycsb('ycsb-a', 'YCSB A', 'YCSB core A: 50% read / 50% update, 1 KB records, zipfian keys.', { read: 0.5, update: 0.5, rmw: 0 }),
  ycsb('ycsb-b', 'YCSB B', 'YCSB core B: 95% read / 5% update.', { read: 0.95, update: 0.05, rmw: 0 }),
  ycsb('ycsb-c', 'YCSB C (read)', 'YCSB core C: 100% point reads (the read target).', { read: 1, update: 0, rmw: 0 }),
  ycsb('ycsb-f', 'YCSB F', 'YCSB core F: 50% read / 50% read-modify-write (update()).', { read: 0.5, update: 0, rmw: 0.5 }),
  ycsb('write', 'update only', '100% durable 1 KB updates, zipfian keys (the write target).', { read: 0, update: 1, rmw: 0 }),
  ycsb('rmw', 'read-modify-write', '100% read-modify-write via update() (the RMW target).', { read: 0, update: 0, rmw: 1 }),
  ycsb('ycsb-a-procs', 'YCSB A × processes', 'YCSB A run by several processes on one store (multi-process axis).', { read: 0.5, update: 0.5, rmw: 0 }, (p) => ({
    inflight: 1,
    processes: p.processes,
  })),
  seed('seed', 'seed: write+read', () => 1),
  seed('seed-32', 'seed: write+read × in flight', (p) => p.inflight),
];

/** The seed plan's benchmark: write `test_key_i` = `test_value_i`, then read it back; one op = the pair. */
function seed(id: string, title: string, inflight: (p: Profile) => number): Workload {
  return {
    id,
    title,
    description: 'The seed plan benchmark: write test_key_i then read it, i = 1..N (one op = the pair), in-process in flight as stated.',
    needs: ['read', 'write'],
    axis: (p) => ({ inflight: inflight(p), processes: 1 }),
    async prepare(subject, ctx) {
      const counters: number[] = [];
      return {
        op: async (worker) => {
          const i = (counters[worker] = (counters[worker] ?? 0) + 1);
          const key = `seed/test_key_${ctx.processIndex}_${worker}_${i}`;
          await subject.write!(key, `test_value_${i}`);
          await subject.read!(key);
        },
      };
    },
  };
}
