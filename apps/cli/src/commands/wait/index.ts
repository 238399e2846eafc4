/**
 * `agent-state wait KEY --until-version N [--timeout D]`: blocks until KEY's version is ≥ N
 * (`state.waitFor`, woken by the backend's change notification, not by polling), then prints the
 * entry like `get --json`. Exit TIMEOUT (20) when the deadline passes first.
 */
import type { Entry, StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { UsageError } from '../../errors.js';
import { formatEntry, formatValue, type PrintOptions } from '../../io.js';

/** Default deadline: a wait always has one. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

/** Options of {@link wait}. */
export interface WaitOptions extends PrintOptions {
  /** Wait for version ≥ this. */
  untilVersion?: number;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Print only the value instead of the entry. */
  value?: boolean;
}

/** Waits for `key` to reach `untilVersion`; the entry. */
export function waitOp(state: StateClient, key: string, untilVersion: number, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<Entry | null> {
  return state.waitFor(key, (entry) => entry !== null && entry.version >= untilVersion, { timeoutMs });
}

/** Prints the entry once its version is ≥ N. */
export async function wait(ctx: CommandContext, key: string, options: WaitOptions = {}): Promise<void> {
  const { untilVersion } = options;
  if (untilVersion === undefined) throw new UsageError('wait: give --until-version N (the version to wait for)');
  if (!Number.isInteger(untilVersion) || untilVersion < 1) throw new UsageError(`--until-version: expected a whole number ≥ 1, got ${untilVersion}`);
  const entry = await withState(ctx, (state) => waitOp(state, key, untilVersion, options.timeoutMs), { key });
  if (entry) ctx.stdout(options.value ? formatValue(entry.value, options) : formatEntry(entry));
}
