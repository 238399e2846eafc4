/** `agent-state set KEY VALUE|-`: writes a value (JSON, or text with `--string`). */
import type { JsonValue, StateClient, WriteOptions } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { formatEntry, readValue, type ValueOptions } from '../../io.js';
import { fenceFromEnv } from '../../fence.js';

/** Options of {@link set}. */
export interface SetOptions extends ValueOptions {
  /** Compare-and-set: a version number or `absent`. */
  ifVersion?: number | 'absent';
  /** Time to live in ms. */
  ttlMs?: number;
  /** Write only while the lock named in AGENT_STATE_LOCK_* (set by `lock -- COMMAND`) is held. */
  fence?: boolean;
  /** Print the new entry as JSON. */
  json?: boolean;
}

/** Writes `value` under `key`, honoring `ifVersion`, `ttlMs` and `fence`. */
export function setOp(state: StateClient, key: string, value: JsonValue, options: SetOptions, env: NodeJS.ProcessEnv) {
  const write: WriteOptions = {};
  if (options.ifVersion !== undefined) write.ifVersion = options.ifVersion;
  if (options.ttlMs !== undefined) write.ttlMs = options.ttlMs;
  if (options.fence) write.fence = fenceFromEnv(env);
  return state.write(key, value, write);
}

/** Writes a value; prints nothing (the new entry with `--json`). */
export async function set(ctx: CommandContext, key: string, text: string | undefined, options: SetOptions = {}): Promise<void> {
  const value = await readValue(text, options, ctx.stdin);
  const entry = await withState(ctx, (state) => setOp(state, key, value, options, ctx.env), { key });
  if (options.json) ctx.stdout(formatEntry(entry));
}
