/**
 * `list`: one page from the namespace's sorted-set index (`list-1.lua`).
 *
 * Why an index rather than SCAN: SCAN has no order, so a sorted page would need the whole
 * keyspace of the namespace per page (O(n) per page, O(n²/limit) per listing). The index (score
 * 0, so ZRANGEBYLEX orders by bytes = code units for the ASCII key alphabet) is kept by the
 * write, delete, commit and increment scripts, gives keyset paging by `after` (a key present
 * during the whole listing is returned exactly once), and costs one round trip per page.
 * Expired entries leave a member behind; the list script skips and removes it.
 */
import type { Entry, ListPageRequest } from '@agent-state/core';
import type { ScriptContext } from './context.js';
import { decodeEntry } from './codec.js';

/** Above every character a key may contain, so `[prefix\x7f` closes the prefix range. */
const AFTER_ALL_KEY_CHARS = '\x7f';

/** The ZRANGEBYLEX bounds of a page. */
export function lexRange(prefix: string | undefined, after: string | undefined): [min: string, max: string] {
  const max = prefix === undefined ? '+' : `[${prefix}${AFTER_ALL_KEY_CHARS}`;
  if (after !== undefined && (prefix === undefined || after >= prefix)) return [`(${after}`, max];
  return [prefix === undefined ? '-' : `[${prefix}`, max];
}

/** One page of live entries in key order. */
export async function listPage(ctx: ScriptContext, request: ListPageRequest): Promise<Entry[]> {
  const [min, max] = lexRange(request.prefix, request.after);
  const reply = (await ctx.script('list', ctx.keys.index, [ctx.keys.index, ctx.keys.serverEntryPrefix, min, max, request.limit])) as (
    | string
    | null
  )[];
  const page: Entry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const key = reply[i]!;
    const entry = decodeEntry(key, ctx.keys.entry(key), reply[i + 1]);
    if (entry) page.push(entry);
  }
  return page;
}
