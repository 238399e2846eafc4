/** `agent-state list [PREFIX]`: one JSON line per entry (or one key per line with `--keys`). */
import type { Entry, ListOptions as CoreListOptions, StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { formatEntry } from '../../io.js';

/** Options of {@link list}. */
export interface ListOptions {
  /** Print keys only, one per line. */
  keys?: boolean;
  /** Only keys after this one (paging). */
  after?: string;
  /** At most this many. */
  limit?: number;
}

/** Every live entry under `prefix`, in key order. */
export async function listOp(state: StateClient, prefix: string | undefined, options: ListOptions): Promise<Entry[]> {
  const opts: CoreListOptions = {};
  if (prefix !== undefined && prefix !== '') opts.prefix = prefix;
  if (options.after !== undefined) opts.after = options.after;
  if (options.limit !== undefined) opts.limit = options.limit;
  const out: Entry[] = [];
  for await (const entry of state.list(opts)) out.push(entry);
  return out;
}

/**
 * Lists entries. The whole listing is collected before anything is printed, so a failure half
 * way leaves stdout empty (the rule every command follows).
 */
export async function list(ctx: CommandContext, prefix: string | undefined, options: ListOptions = {}): Promise<void> {
  const entries = await withState(ctx, (state) => listOp(state, prefix, options));
  ctx.stdout(entries.map((e) => (options.keys ? `${e.key}\n` : formatEntry(e))).join(''));
}
