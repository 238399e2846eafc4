/** `agent-state incr KEY [BY]`: atomic increment (absent counts as 0); prints the new number. */
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';

/** Adds `by` to the number under `key` and prints the result. */
export async function incr(ctx: CommandContext, key: string, by = 1): Promise<void> {
  const value = await withState(ctx, (state) => state.increment(key, by), { key });
  ctx.stdout(`${value}\n`);
}
