/** `agent-state get KEY`: the value on stdout; `--json` for the whole entry; exit 1 when absent. */
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { formatEntry, formatValue } from '../../io.js';

/** Options of {@link get}. */
export interface GetOptions {
  /** Print the whole entry (key, value, version, updatedAt, expiresAt?) as JSON. */
  json?: boolean;
  /** Print a string value without quotes. */
  raw?: boolean;
}

/** Prints the value of `key`; `NotFoundError` (exit 1, nothing printed) when it is absent or expired. */
export async function get(ctx: CommandContext, key: string, options: GetOptions = {}): Promise<void> {
  const entry = await withState(ctx, (state) => state.read(key), { key });
  if (!entry) throw new NotFoundError(`no key ${key}`);
  ctx.stdout(options.json ? formatEntry(entry) : formatValue(entry.value, options));
}
