/**
 * `agent-state batch`: one JSON request per line on stdin, one JSON result per line on stdout,
 * in order, written as soon as each is done, so a loop pays one process start for many
 * operations, and a shell can drive it as a coprocess (`coproc agent-state batch`).
 *
 * Request: `{"op":"get","key":"a"}` plus the op's fields; an optional `id` is echoed back.
 * Result: `{"ok":true,"result":…}` or `{"ok":false,"code":"CONFLICT","exit":13,"message":"…"}`.
 * Locks taken with `{"op":"lock"}` are held (and extended) by this process until `unlock` or
 * the end of input; `"fence":"<resource>"` on set/delete writes under such a lock.
 */
import { createInterface } from 'node:readline';
import type { JsonValue, Lock, StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { UsageError, reportError } from '../../errors.js';
import { dispatch, type HeldLock } from './ops.js';

/** Runs requests from stdin until it ends; releases every lock still held. */
export async function batch(ctx: CommandContext): Promise<void> {
  await withState(ctx, async (state) => {
    const locks = new Map<string, HeldLock>();
    try {
      const lines = createInterface({ input: ctx.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        if (line.trim() === '') continue;
        ctx.stdout(`${await handle(state, line, locks)}\n`);
      }
    } finally {
      await releaseAll(locks);
    }
  });
}

async function handle(state: StateClient, line: string, locks: Map<string, HeldLock>): Promise<string> {
  let request: Record<string, JsonValue>;
  let id: JsonValue | undefined;
  try {
    const parsed = JSON.parse(line) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('expected a JSON object per line');
    request = parsed as Record<string, JsonValue>;
    id = request['id'];
  } catch (error) {
    return failure(error instanceof UsageError ? error : new UsageError(`not JSON: ${(error as Error).message}`), undefined);
  }
  try {
    const result = await dispatch(state, request, locks);
    return JSON.stringify({ ...(id !== undefined && { id }), ok: true, result: result ?? null });
  } catch (error) {
    return failure(error, id);
  }
}

function failure(error: unknown, id: JsonValue | undefined): string {
  const report = reportError(error);
  const message = error instanceof Error ? error.message : String(error);
  return JSON.stringify({ ...(id !== undefined && { id }), ok: false, code: report.code, exit: report.exitCode, message });
}

async function releaseAll(locks: Map<string, HeldLock>): Promise<void> {
  for (const { lock, keeper } of locks.values()) {
    await keeper.stop();
    await (lock as Lock).release().catch(() => undefined);
  }
  locks.clear();
}
