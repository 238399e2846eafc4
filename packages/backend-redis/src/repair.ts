/**
 * `repair(key)`: the only way past a damaged entry. Inspects the key (TYPE, GET), names what is
 * wrong with it, and removes it with `repair-3.lua` only if it still holds exactly what was
 * inspected, raising the version floor as a delete does. A healthy or absent entry is left alone.
 */
import { CorruptDataError, type RepairReport } from '@agent-state/core';
import type { Redis, Cluster } from 'ioredis';
import { replyArray, type ScriptContext } from './context.js';
import { decodeEntry } from './codec.js';

/** Attempts before giving up on a key that keeps changing under the repair. */
const ATTEMPTS = 5;

export async function repair(
  ctx: ScriptContext,
  key: string,
  call: <T>(location: string, fn: (client: Redis | Cluster) => Promise<T>) => Promise<T>,
): Promise<RepairReport> {
  const location = ctx.keys.entry(key);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const kind = await call(location, (client) => client.type(location));
    if (kind === 'none') return { key, removed: false };
    let stored = '';
    let damage: string;
    if (kind !== 'string') {
      damage = `${location} is a Redis ${kind}, not the string agent-state writes`;
    } else {
      stored = (await call(location, (client) => client.get(location))) ?? '';
      try {
        decodeEntry(key, location, stored, true);
        return { key, removed: false };
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        damage = error.message;
      }
    }
    const [code] = replyArray(await ctx.script('repair', location, [location, ctx.keys.index, ctx.keys.meta, key, kind, stored])) as [number];
    if (code === 1) return { key, removed: true, damage };
  }
  throw new CorruptDataError(location, `the entry kept changing while repair inspected it (${ATTEMPTS} attempts); nothing removed`);
}
