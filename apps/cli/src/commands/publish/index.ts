/** `agent-state publish CHANNEL MESSAGE|-`: prints `{"sequence":n}`. */
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { readValue, type ValueOptions } from '../../io.js';

/** Publishes one message. */
export async function publish(ctx: CommandContext, channel: string, text: string | undefined, options: ValueOptions = {}): Promise<void> {
  const message = await readValue(text, options, ctx.stdin, 'message');
  const result = await withState(ctx, (state) => state.publish(channel, message));
  ctx.stdout(`${JSON.stringify(result)}\n`);
}
