/**
 * `agent-state update KEY --expr EXPR`: an atomic read-modify-write, retried on conflict by
 * `state.update`; or `update KEY --if-version N [VALUE|-]`: one compare-and-set of a new value.
 */
import type { Entry, JsonValue, StateClient } from '@agent-state/core';
import { InvalidValueError } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { formatEntry, formatValue, readValue, type ValueOptions } from '../../io.js';
import { setOp } from '../set/index.js';

/** Options of {@link update}. */
export interface UpdateOptions extends ValueOptions {
  /** A JavaScript expression over `value` (the current value, `null` when absent), `entry` and `args`. */
  expr?: string;
  /** `name=value` pairs, visible to the expression as `args.name` (strings), so shell data never needs quoting into code. */
  args?: string[];
  /** Compare-and-set of a new value given as an argument or on stdin. */
  ifVersion?: number | 'absent';
  /** Time to live in ms for the new value. */
  ttlMs?: number;
  /** Print the new entry as JSON instead of the new value. */
  json?: boolean;
  /** Print a string value without quotes. */
  raw?: boolean;
}

/** The function an `--expr` compiles to. Returning `undefined` leaves the key unchanged. */
export type UpdateFn = (value: JsonValue | null, entry: Entry | null, args: Record<string, string>) => unknown;

/**
 * Compiles `--expr` once. It is the user's own code, run in this process like `node -e`: the
 * CLI is a tool for the user's scripts, not a sandbox.
 */
export function compileExpr(expr: string): UpdateFn {
  try {
    return new Function('value', 'entry', 'args', `"use strict"; return (${expr}\n);`) as UpdateFn;
  } catch (error) {
    throw new InvalidValueError('--expr', expr, `not a JavaScript expression (${(error as Error).message})`);
  }
}

/** Parses `name=value` pairs. */
export function parseArgs(pairs: readonly string[] = []): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--arg: expected name=value, got ${JSON.stringify(pair)}`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

/** Applies `fn` atomically (retried on conflict); the resulting entry, or null if the key stays absent. */
export function updateOp(
  state: StateClient,
  key: string,
  fn: UpdateFn,
  args: Record<string, string>,
  ttlMs?: number,
): Promise<Entry | null> {
  return state.update(
    key,
    (current) => {
      let next: unknown;
      try {
        next = fn(current?.value ?? null, current, args);
      } catch (error) {
        throw new InvalidValueError('--expr', current?.value ?? null, `the expression threw ${String(error)}`);
      }
      return next as JsonValue | undefined;
    },
    ttlMs !== undefined ? { ttlMs } : undefined,
  );
}

/** Updates a key and prints its new value (or entry with `--json`). */
export async function update(ctx: CommandContext, key: string, text: string | undefined, options: UpdateOptions = {}): Promise<void> {
  let entry: Entry | null;
  if (options.expr !== undefined) {
    if (options.ifVersion !== undefined || text !== undefined) throw new UsageError('update: give either --expr or a new value with --if-version, not both');
    const fn = compileExpr(options.expr);
    const args = parseArgs(options.args);
    entry = await withState(ctx, (state) => updateOp(state, key, fn, args, options.ttlMs), { key });
  } else {
    if (options.ifVersion === undefined) throw new UsageError('update: give --expr EXPR, or --if-version N with a new value (argument or - for stdin)');
    const value = await readValue(text ?? '-', options, ctx.stdin);
    entry = await withState(
      ctx,
      (state) => setOp(state, key, value, { ifVersion: options.ifVersion!, ...(options.ttlMs !== undefined && { ttlMs: options.ttlMs }) }, ctx.env),
      { key },
    );
  }
  if (!entry) throw new NotFoundError(`no key ${key}`);
  ctx.stdout(options.json ? formatEntry(entry) : formatValue(entry.value, options));
}
