/**
 * `agent-state queue push|pop|ack|nack|size`. A claim outlives the process that made it (its
 * lease is stored in the job record), so `pop` prints the job's id and leaseId and a later
 * invocation settles it with `queue ack QUEUE JOB_ID LEASE_ID` (the queue's stateless
 * `ack(id, leaseId)`, which acts only while that lease is still the job's current claim).
 */
import type { JsonValue, StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { formatValue, readValue, type ValueOptions } from '../../io.js';

/** Options of {@link queuePush}. */
export interface PushOptions extends ValueOptions {
  /** `high`, `normal`, `low` or a whole number (larger first). */
  priority?: string;
  delayMs?: number;
}

/** Options of {@link queuePop}. */
export interface PopOptions {
  /** How long the claim lasts (default 60 s). */
  leaseMs?: number;
  /** Wait up to this long for a job (blocking, no polling) before giving up (exit 1). */
  waitMs?: number;
  /** Ack at once: at-most-once delivery, what the seed plan's dequeue_command did. */
  ack?: boolean;
  /** Print only the payload. */
  payload?: boolean;
  /** With `payload`: a string payload without quotes. */
  raw?: boolean;
  /** For the shell functions: `ID LEASE_ID ATTEMPTS` on the first line, then the payload (raw). */
  shell?: boolean;
}

/** A claimed job as `pop` prints it. */
export interface PoppedJob {
  queue: string;
  id: string;
  leaseId: string;
  payload: JsonValue;
  priority: number;
  sequence: number;
  attempts: number;
}

/** `--priority high|normal|low|N`. */
export function parsePriority(text: string | undefined): 'high' | 'normal' | 'low' | number | undefined {
  if (text === undefined || text === 'high' || text === 'normal' || text === 'low') return text;
  return /^-?\d+$/.test(text) ? Number(text) : (text as never); // core rejects anything else, naming it
}

/** Enqueues; resolves to `{id, sequence}`. */
export function pushOp(state: StateClient, queue: string, payload: JsonValue, options: PushOptions) {
  const priority = parsePriority(options.priority);
  return state.queue(queue).enqueue(payload, {
    ...(priority !== undefined && { priority }),
    ...(options.delayMs !== undefined && { delayMs: options.delayMs }),
  });
}

/**
 * Claims the next job, waiting up to `waitMs` for one (a blocking `dequeue`, woken by the
 * backend's notification: no polling here), or null.
 */
export async function popOp(state: StateClient, queue: string, options: PopOptions): Promise<PoppedJob | null> {
  const job = await state.queue(queue).dequeue({
    ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
  });
  if (!job) return null;
  if (options.ack) await job.ack();
  const { id, leaseId, payload, priority, sequence, attempts } = job;
  return { queue, id, leaseId, payload, priority, sequence, attempts };
}

/** Acks (`nackDelayMs` undefined) or nacks a claim by its ids; false when it is no longer current. */
export function settleOp(state: StateClient, queue: string, id: string, leaseId: string, nackDelayMs?: number): Promise<boolean> {
  const q = state.queue(queue);
  return nackDelayMs === undefined ? q.ack(id, leaseId) : q.nack(id, leaseId, { delayMs: nackDelayMs });
}

/** `queue push QUEUE PAYLOAD|-`: prints `{"id":…,"sequence":…}`. */
export async function queuePush(ctx: CommandContext, queue: string, text: string | undefined, options: PushOptions = {}): Promise<void> {
  const payload = await readValue(text, options, ctx.stdin, 'payload');
  const result = await withState(ctx, (state) => pushOp(state, queue, payload, options));
  ctx.stdout(`${JSON.stringify(result)}\n`);
}

/** `queue pop QUEUE`: prints the job (exit 1 when the queue has nothing visible). */
export async function queuePop(ctx: CommandContext, queue: string, options: PopOptions = {}): Promise<void> {
  const job = await withState(ctx, (state) => popOp(state, queue, options));
  if (!job) throw new NotFoundError(`queue ${queue} is empty`);
  if (options.shell) ctx.stdout(`${job.id} ${job.leaseId} ${job.attempts}\n${formatValue(job.payload, { raw: true })}`);
  else ctx.stdout(options.payload || options.raw ? formatValue(job.payload, options) : `${JSON.stringify(job)}\n`);
}

/** `queue ack QUEUE JOB_ID LEASE_ID` (or `nack` with a delay): exit 1 when the claim is not current. */
export async function queueSettle(ctx: CommandContext, queue: string, id: string, leaseId: string, nackDelayMs?: number): Promise<void> {
  const done = await withState(ctx, (state) => settleOp(state, queue, id, leaseId, nackDelayMs));
  if (!done) throw new NotFoundError(`no current claim ${leaseId} on job ${id}`);
}

/** `queue size QUEUE`: jobs not yet acked. */
export async function queueSize(ctx: CommandContext, queue: string): Promise<void> {
  const size = await withState(ctx, (state) => state.queue(queue).size());
  ctx.stdout(`${size}\n`);
}
