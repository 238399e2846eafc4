/**
 * Firebase scale (issue 19): does an operation's cost grow with the namespace? The namespace is
 * pre-filled to 10, 500, 1,000, 2,000 and 10,000 keys of ~250-byte values (cumulatively, so each
 * size's cases run on a namespace of exactly that many keys plus the few the cases write), and at
 * each size we measure our 2-key transaction, our single write against firebase-admin's `set()`,
 * and our read against `once('value')`.
 */
import { seededRandom } from '../harness/zipfian.js';
import type { Profile } from '../profile.js';
import type { Subject } from '../subjects/types.js';
import type { Workload } from './types.js';

/** Namespace sizes of each profile (the full one is what the table asks for). */
function sizes(profile: Profile): readonly number[] {
  if (profile.name === 'full') return [10, 500, 1_000, 2_000, 10_000];
  if (profile.name === 'quick') return [10, 500];
  return [10, 40];
}

/** A ~250-byte value (the measurement used values of that size). */
function value(i: number): Record<string, string | number> {
  const random = seededRandom(i + 1);
  let text = '';
  for (let k = 0; k < 220; k++) text += String.fromCharCode(97 + Math.floor(random() * 26));
  return { i, text };
}

const FILLED = 'scale/filled';
/** Writes in flight while filling. */
const FILL_CONCURRENCY = 32;

/** Fills `scale/fill/<i>` up to `size` keys, continuing from what an earlier size filled. */
async function fill(subject: Subject, size: number): Promise<void> {
  const done = ((await subject.read!(FILLED)) as number | undefined) ?? 0;
  let next = done;
  const worker = async (): Promise<void> => {
    while (next < size) {
      const i = next++;
      await subject.write!(`scale/fill/${String(i).padStart(6, '0')}`, value(i));
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
  // The filled count itself and the cases' own keys add a handful of keys to every size.
  await subject.write!(FILLED, Math.max(done, size));
}

function atSize(size: number): Workload[] {
  const setup = { key: `firebase-scale-${size}`, run: (subject: Subject) => fill(subject, size) };
  const title = (what: string) => `${what} @ ${size.toLocaleString('en-US')} keys`;
  return [
    {
      id: `fb-scale-tx-${size}`,
      title: title('2-key tx'),
      description: `A transaction reading and writing two keys (a transfer), in a namespace of ${size} keys.`,
      needs: ['state'],
      backends: ['firebase'],
      axis: () => ({ inflight: 1, processes: 1 }),
      setup,
      async prepare(subject) {
        const state = subject.state!;
        await state.write('scale/tx/a', 1_000_000);
        await state.write('scale/tx/b', 1_000_000);
        return {
          op: async () => {
            await state.transaction(async (tx) => {
              const a = (await tx.read('scale/tx/a'))?.value as number;
              const b = (await tx.read('scale/tx/b'))?.value as number;
              tx.write('scale/tx/a', a - 1);
              tx.write('scale/tx/b', b + 1);
            });
          },
        };
      },
    },
    {
      id: `fb-scale-write-${size}`,
      title: title('single write'),
      description: `One write of a ~250-byte value (8 keys in turn), in a namespace of ${size} keys; raw = firebase-admin set().`,
      needs: ['write'],
      subjects: ['ours', 'raw'],
      backends: ['firebase'],
      axis: () => ({ inflight: 1, processes: 1 }),
      setup,
      async prepare(subject) {
        let n = 0;
        return { op: () => subject.write!(`scale/w/${n % 8}`, value(n++)) };
      },
    },
    {
      id: `fb-scale-read-${size}`,
      title: title('read'),
      description: `One point read of a ~250-byte value (16 of the filled keys in turn), in a namespace of ${size} keys; raw = once('value').`,
      needs: ['read'],
      subjects: ['ours', 'raw'],
      backends: ['firebase'],
      axis: () => ({ inflight: 1, processes: 1 }),
      setup,
      async prepare(subject) {
        let n = 0;
        const keys = Math.min(16, size);
        return {
          op: async () => {
            await subject.read!(`scale/fill/${String(n++ % keys).padStart(6, '0')}`);
          },
        };
      },
    },
  ];
}

/** The scale cases of a profile, smallest namespace first (the fill is cumulative). */
export function firebaseScaleWorkloads(profile: Profile): Workload[] {
  return sizes(profile).flatMap(atSize);
}
