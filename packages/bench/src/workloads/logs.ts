/**
 * Append-only logs (issue 13): append one record, and append then wait for a follower in the
 * same process to see it (latency = append call → the follower's yield).
 */
import { performance } from 'node:perf_hooks';
import type { StateClient } from '@agent-state/core';
import { SkipCase } from '../subjects/commands.js';
import type { Workload } from './types.js';

/** The part of the log API these cases use (`state.log(name)`, second wave). */
interface BenchLog {
  append(record: unknown): Promise<{ seq: number; at: number }>;
  follow(options?: { after?: number; signal?: AbortSignal }): AsyncIterable<{ seq: number; record: unknown }>;
}

function logOf(state: StateClient, name: string): BenchLog {
  const open = (state as unknown as { log?: (name: string) => BenchLog }).log;
  if (typeof open !== 'function') throw new SkipCase('this core build has no state.log() yet');
  return open.call(state, name);
}

const RECORD_TEXT = 'x'.repeat(100);

export const LOG_WORKLOADS: readonly Workload[] = [
  {
    id: 'log-append',
    title: 'log append',
    description: 'Append one ~130 B record to a log (durable on return).',
    needs: ['state'],
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject, ctx) {
      const log = logOf(subject.state!, `bench-append-${ctx.processIndex}`);
      let n = 0;
      return {
        op: async () => {
          await log.append({ n: n++, text: RECORD_TEXT });
        },
      };
    },
  },
  {
    id: 'log-follow',
    title: 'log follow',
    description: 'Append one record and wait for a follower (same process, `follow()`) to yield it; latency = append call → yield.',
    needs: ['state'],
    axis: () => ({ inflight: 1, processes: 1 }),
    async prepare(subject, ctx) {
      const log = logOf(subject.state!, `bench-follow-${ctx.processIndex}`);
      const first = await log.append({ start: true });
      const abort = new AbortController();
      const waiters = new Map<number, (at: number) => void>();
      const seen = new Map<number, number>();
      let failure: unknown;
      const following = (async () => {
        for await (const r of log.follow({ after: first.seq, signal: abort.signal })) {
          const at = performance.now();
          const waiter = waiters.get(r.seq);
          if (waiter) {
            waiters.delete(r.seq);
            waiter(at);
          } else seen.set(r.seq, at);
        }
      })().catch((error: unknown) => {
        if (!abort.signal.aborted) failure = error;
      });
      let n = 0;
      return {
        op: async () => {
          if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
          const sent = performance.now();
          const { seq } = await log.append({ n: n++, text: RECORD_TEXT });
          const early = seen.get(seq);
          if (early !== undefined) {
            seen.delete(seq);
            return early - sent;
          }
          const at = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => {
              waiters.delete(seq);
              reject(new Error(`the follower did not see record ${seq} within 10 s`));
            }, 10_000);
            waiters.set(seq, (t) => {
              clearTimeout(timer);
              resolve(t);
            });
          });
          return at - sent;
        },
        teardown: async () => {
          abort.abort();
          await following;
        },
      };
    },
  },
];
