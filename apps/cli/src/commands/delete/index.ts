/** `agent-state delete KEY`: removes a key (idempotent: exit 0 whether or not it existed). */
import type { DeleteOptions as CoreDeleteOptions, StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { fenceFromEnv } from '../../fence.js';

/** Options of {@link del}. */
export interface DeleteOptions {
  ifVersion?: number | 'absent';
  /** Delete only while the lock named in AGENT_STATE_LOCK_* is held. */
  fence?: boolean;
  /** Print `{"deleted":true|false}`. */
  json?: boolean;
}

/** Deletes `key`; true when it existed. */
export function deleteOp(state: StateClient, key: string, options: DeleteOptions, env: NodeJS.ProcessEnv): Promise<boolean> {
  const opts: CoreDeleteOptions = {};
  if (options.ifVersion !== undefined) opts.ifVersion = options.ifVersion;
  if (options.fence) opts.fence = fenceFromEnv(env);
  return state.delete(key, opts);
}

/** Deletes a key; prints nothing (`{"deleted":bool}` with `--json`). */
export async function del(ctx: CommandContext, key: string, options: DeleteOptions = {}): Promise<void> {
  const deleted = await withState(ctx, (state) => deleteOp(state, key, options, ctx.env), { key });
  if (options.json) ctx.stdout(`${JSON.stringify({ deleted })}\n`);
}
