/**
 * What worker processes do in the multi-process and crash groups. Each task gets an open client,
 * its arguments, and `emit` to report a JSON line to the parent.
 */
import { createHash } from 'node:crypto';
import { sleep } from '@agent-state/core';
import type { StateClient } from '@agent-state/core';

export type Emit = (type: string, data?: Record<string, unknown>) => void;
export type Task = (state: StateClient, args: Record<string, unknown>, emit: Emit) => Promise<void>;

/** A value whose integrity can be checked: a payload and the hash of it. */
export function checkedValue(i: number, size: number): { i: number; blob: string; sum: string } {
  const blob = `${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26)));
  return { i, blob, sum: createHash('sha1').update(blob).digest('hex') };
}

/** True when a value made by {@link checkedValue} is whole. */
export function isWhole(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const v = value as { i?: unknown; blob?: unknown; sum?: unknown };
  return (
    typeof v.blob === 'string' &&
    typeof v.i === 'number' &&
    v.blob.startsWith(`${v.i}:`) &&
    createHash('sha1').update(v.blob).digest('hex') === v.sum
  );
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const str = (v: unknown): string => String(v);

/** One operation of the property group, run the same way in the test process and in a worker. */
export type PropertyOp =
  | { kind: 'write'; key: string; value: unknown; ifVersion?: number | 'absent'; ttlMs?: number }
  | { kind: 'delete'; key: string; ifVersion?: number }
  | { kind: 'increment'; key: string; by: number }
  | { kind: 'read'; key: string }
  | { kind: 'tx'; from: string; to: string; deleteFrom: boolean };

/** What an operation gave: its result, or the code of the StateError it threw. */
export type PropertyResult = { ok: true; result: unknown } | { ok: false; code: string; message: string };

/** Runs one {@link PropertyOp}; a StateError becomes `{ ok: false, code }`, anything else throws. */
export async function runPropertyOp(state: StateClient, op: PropertyOp): Promise<PropertyResult> {
  try {
    switch (op.kind) {
      case 'write': {
        const options = { ...(op.ifVersion !== undefined && { ifVersion: op.ifVersion }), ...(op.ttlMs !== undefined && { ttlMs: op.ttlMs }) };
        return { ok: true, result: await state.write(op.key, op.value as never, options) };
      }
      case 'delete':
        return { ok: true, result: await state.delete(op.key, op.ifVersion !== undefined ? { ifVersion: op.ifVersion } : undefined) };
      case 'increment':
        return { ok: true, result: await state.increment(op.key, op.by) };
      case 'read':
        return { ok: true, result: await state.read(op.key) };
      case 'tx':
        await state.transaction(async (tx) => {
          const from = await tx.read(op.from);
          tx.write(op.to, { copy: from?.value ?? null });
          if (op.deleteFrom && op.from !== op.to) tx.delete(op.from);
        });
        return { ok: true, result: null };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return { ok: false, code, message: (error as Error).message };
    throw error;
  }
}

export const tasks: Record<string, Task> = {
  /** Runs property-group operations read as JSON lines from stdin, one result line each, until stdin ends. */
  async rpc(state, _args, emit) {
    const { createInterface } = await import('node:readline');
    emit('ready');
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      const { id, op } = JSON.parse(line) as { id: number; op: PropertyOp };
      emit('result', { id, ...(await runPropertyOp(state, op)) });
    }
  },

  /** Deletes `key` (if there) and writes it again from this process. */
  async deleteAndCreate(state, args, emit) {
    const key = str(args.key);
    await state.delete(key);
    const entry = await state.write(key, { by: process.pid });
    emit('done', { version: entry.version });
  },

  /** `n` atomic increments of `key`. */
  async increment(state, args, emit) {
    for (let i = 0; i < num(args.n, 10); i++) await state.increment(str(args.key));
    emit('done');
  },

  /** `n` read-modify-writes of `key` through `update`. */
  async update(state, args, emit) {
    for (let i = 0; i < num(args.n, 10); i++) {
      await state.update<number>(str(args.key), (e) => (e?.value ?? 0) + 1);
    }
    emit('done');
  },

  /**
   * `n` times: take the lock, read the counter, write it + 1 with a plain fenced write (no CAS),
   * release. Only mutual exclusion keeps the count exact. Reports every token it got.
   */
  async lockedCounter(state, args, emit) {
    const tokens: number[] = [];
    for (let i = 0; i < num(args.n, 10); i++) {
      const lock = await state.lock(str(args.resource), { ttlMs: num(args.ttlMs, 10_000), waitMs: 60_000 });
      tokens.push(lock.token);
      const current = await state.read<number>(str(args.key));
      await state.write(str(args.key), (current?.value ?? 0) + 1, { fence: lock });
      await lock.release();
    }
    emit('done', { tokens });
  },

  /** Takes the lock, reports it, and holds it until killed. */
  async holdLock(state, args, emit) {
    const lock = await state.lock(str(args.resource), { ttlMs: num(args.ttlMs, 1_000), waitMs: 10_000 });
    emit('locked', { token: lock.token, expiresAt: lock.expiresAt });
    await sleep(num(args.holdMs, 60_000));
  },

  /** Takes the lock, reports it, holds it `holdMs`, then releases it and reports that. */
  async lockThenRelease(state, args, emit) {
    const lock = await state.lock(str(args.resource), { ttlMs: num(args.ttlMs, 30_000), waitMs: 10_000 });
    emit('locked', { token: lock.token });
    await sleep(num(args.holdMs, 500));
    await lock.release();
    emit('released', { token: lock.token });
  },

  /** `n` random transfers between `accounts` in transactions; balances never go below zero. */
  async transfer(state, args, emit) {
    const accounts = args.accounts as string[];
    let done = 0;
    for (let i = 0; i < num(args.n, 10); i++) {
      const from = accounts[Math.floor(Math.random() * accounts.length)]!;
      let to = accounts[Math.floor(Math.random() * accounts.length)]!;
      if (to === from) to = accounts[(accounts.indexOf(from) + 1) % accounts.length]!;
      await state.transaction(
        async (tx) => {
          const [a, b] = await tx.readMany([from, to]);
          const balance = (a?.value as number | undefined) ?? 0;
          const amount = Math.min(balance, 1 + Math.floor(Math.random() * 10));
          tx.write(from, balance - amount);
          tx.write(to, ((b?.value as number | undefined) ?? 0) + amount);
        },
        { maxRetries: 1_000 },
      );
      done++;
    }
    emit('done', { transfers: done });
  },

  /** Commits transactions that set every key in `keys` to the same value, until killed. */
  async transactionLoop(state, args, emit) {
    const keys = args.keys as string[];
    const size = num(args.size, 2_000);
    // A pause between commits (pauseMs) leaves optimistic readers a window: back to back, a fast
    // backend can commit between every read and its validation, starving them (not a torn read).
    const pauseMs = num(args.pauseMs, 0);
    for (let i = 1; ; i++) {
      await state.transaction((tx) => {
        for (const key of keys) tx.write(key, checkedValue(i, size));
      });
      if (i === 1) emit('ready');
      if (pauseMs > 0) await sleep(pauseMs);
    }
  },

  /** Writes checked values of `size` characters to `key`, until killed (or `n` writes). */
  async writeLoop(state, args, emit) {
    const size = num(args.size, 64 * 1024);
    const n = num(args.n, Number.POSITIVE_INFINITY);
    for (let i = 1; i <= n; i++) {
      await state.write(str(args.key), checkedValue(i, size));
      if (i === 1) emit('ready');
    }
    emit('done');
  },

  /** Dequeues (blocking) and acks until no job came for `idleMs`; reports the ids it got. */
  async consume(state, args, emit) {
    const queue = state.queue(str(args.queue));
    const ids: string[] = [];
    emit('ready');
    for (;;) {
      const job = await queue.dequeue({ leaseMs: num(args.leaseMs, 30_000), waitMs: num(args.idleMs, 1_500) });
      if (!job) break;
      ids.push(job.id);
      await job.ack();
    }
    emit('done', { ids });
  },

  /** Waits until key `go` exists, then tries one claim of `queue` (no wait); reports what it got. */
  async claimOnGo(state, args, emit) {
    const queue = state.queue(str(args.queue));
    emit('ready');
    await state.waitFor(str(args.go), (e) => e !== null, { timeoutMs: 60_000 });
    const job = await queue.dequeue({ leaseMs: 60_000 });
    emit('done', { id: job?.id ?? null });
  },

  /** Enqueues `payload` on `queue` (after `delayMs`). */
  async enqueue(state, args, emit) {
    await sleep(num(args.delayMs, 0));
    const { id } = await state.queue(str(args.queue)).enqueue((args.payload ?? null) as never);
    emit('done', { id });
  },

  /** Sends `message` from `from` to `to` (after `delayMs`). */
  async send(state, args, emit) {
    await sleep(num(args.delayMs, 0));
    const ids = await state.mailbox(str(args.from)).send(str(args.to), (args.message ?? null) as never);
    emit('done', { ids });
  },

  /** Writes `value` to `key` (after `delayMs`). */
  async write(state, args, emit) {
    await sleep(num(args.delayMs, 0));
    const entry = await state.write(str(args.key), (args.value ?? null) as never);
    emit('done', { version: entry.version });
  },

  /** Appends `n` records `{ writer, i }` to log `log`; reports the seqs it got, in order. */
  async appendLog(state, args, emit) {
    const log = state.log(str(args.log));
    emit('ready');
    const seqs: number[] = [];
    for (let i = 0; i < num(args.n, 10); i++) seqs.push((await log.append({ writer: str(args.writer), i })).seq);
    emit('done', { seqs });
  },

  /**
   * `n` times: take every lock in `resources` with lockMany, then for each resource bump the
   * counter `counters/<resource>` by a plain fenced read + write (no CAS), release. Only mutual
   * exclusion keeps each counter exact, so overlapping holders would lose updates.
   */
  async lockManyCounter(state, args, emit) {
    const resources = args.resources as string[];
    for (let i = 0; i < num(args.n, 10); i++) {
      const locks = await state.lockMany(resources, { ttlMs: 30_000, waitMs: 60_000 });
      for (const lock of locks) {
        const key = `counters/${lock.resource}`;
        const current = await state.read<number>(key);
        await state.write(key, (current?.value ?? 0) + 1, { fence: lock });
      }
      for (const lock of locks) await lock.release();
    }
    emit('done');
  },

  /** Claims one job, reports it, and hangs until killed (a consumer dying mid-job). */
  async claimAndHang(state, args, emit) {
    const job = await state.queue(str(args.queue)).dequeue({ leaseMs: num(args.leaseMs, 1_000) });
    emit('claimed', { id: job?.id ?? null, attempts: job?.attempts ?? 0 });
    await sleep(60_000);
  },

  /** Publishes `n` messages `{ publisher, i }` in order. */
  async publish(state, args, emit) {
    for (let i = 0; i < num(args.n, 10); i++) await state.publish(str(args.channel), { publisher: str(args.name), i });
    emit('done');
  },

  /** Opens, does one of everything, closes, and returns: the process must then exit by itself. */
  async lifecycle(state, _args, emit) {
    await state.write('lifecycle/a', { ok: true }, { ttlMs: 60_000 });
    await state.read('lifecycle/a');
    for await (const _ of state.list({ prefix: 'lifecycle/' })) void _;
    const lock = await state.lock('lifecycle/lock', { ttlMs: 5_000 });
    await lock.release();
    await state.transaction(async (tx) => {
      await tx.read('lifecycle/a');
      tx.write('lifecycle/b', 1);
    });
    await state.subscribe('lifecycle', () => undefined);
    await state.queue('lifecycle').enqueue({ job: 1 });
    await state.agents.heartbeat('lifecycle-agent', { ok: true });
    // The subscription is left running on purpose: close() must stop it.
    emit('done');
  },
};
