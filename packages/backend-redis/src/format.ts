/**
 * The store format marker (`<base>meta` field `format`) and the in-place upgrade of a
 * first-wave store (`format-2.lua`): a store without the marker gets its version floor set
 * above every existing entry's version and its first-wave coordination keys moved into the
 * native layout (upgrade.ts), then the marker, written last, so an upgrade cut short
 * starts over (every step is idempotent).
 */
import { InvalidConfigError } from '@agent-state/core';
import { replyArray, type ScriptContext } from './context.js';
import { ScriptError } from './error-code.js';
import { movePortableCoordination } from './upgrade.js';

/**
 * The format this release writes. 1 = the first wave (no marker); 2 = the version floor and
 * the native queue and log layouts; 3 = every entry header carries the digest of its JSON text
 * (`<version>:<updatedAt>:<expiresAt>:<digest>:<json>`), so scripts check an old value without
 * parsing it. Format-2 entries stay readable (checked by a JSON parse until rewritten), so the
 * upgrade from 2 is the marker alone; format-2 clients are refused by the marker.
 */
export const STORE_FORMAT = 3;

/** Index members read per upgrade call: bounds how long one call holds the server. */
const UPGRADE_PAGE = 1_000;

/**
 * Checks the marker, upgrading a first-wave store in place (said once on stderr, by the client
 * that did it). A store of a newer format is refused with `InvalidConfigError` naming both.
 */
export async function checkFormat(ctx: ScriptContext, target: string): Promise<void> {
  let after = '';
  let max = 0;
  const run = async (mode: 'scan' | 'finish', hadEntries = false) =>
    replyArray(
      await ctx.script('format', ctx.keys.meta, [ctx.keys.meta, ctx.keys.index, STORE_FORMAT, after, UPGRADE_PAGE, ctx.keys.serverEntryPrefix, max, mode, hadEntries ? '1' : '0']),
    ) as [number, (string | number)?, number?];
  for (;;) {
    const reply = await run('scan');
    const [code] = reply;
    if (code === ScriptError.NewerFormat) {
      throw new InvalidConfigError(
        'config',
        'communication.backend',
        `the Redis store ${target} namespace ${ctx.keys.base} has format ${String(reply[1])}, newer than format ${STORE_FORMAT} this release of @agent-state/backend-redis reads; upgrade the package`,
      );
    }
    if (code === 1) return;
    if (code === 5) {
      process.stderr.write(
        `agent-state: upgraded the Redis store ${ctx.keys.base} at ${target} from format ${String(reply[1])} to format ${STORE_FORMAT} in place (entries written from now on carry a digest of their value; older entries stay readable)\n`,
      );
      return;
    }
    if (code === 0) {
      after = String(reply[1]);
      max = Number(reply[2]);
      continue;
    }
    // code 4: the whole index is read.
    max = Number(reply[1]);
    const hadEntries = Number(reply[2]) === 1;
    const moved = hadEntries ? await movePortableCoordination(ctx) : { queues: 0, logs: 0 };
    const [done, floor] = await run('finish', hadEntries);
    if (done === 2) {
      const coordination = moved.queues + moved.logs > 0 ? `; moved ${moved.queues} first-wave queue(s) and ${moved.logs} channel/mailbox log(s) into the native layout` : '';
      process.stderr.write(
        `agent-state: upgraded the Redis store ${ctx.keys.base} at ${target} to format ${STORE_FORMAT} in place (version floor set to ${String(floor)}, above every existing version${coordination})\n`,
      );
    }
    return;
  }
}
