/**
 * Native `increment` (`increment-3.lua`): one round trip instead of core's read + CAS loop, and
 * no retries under contention.
 */
import { InvalidValueError, type JsonValue } from '@agent-state/core';
import { replyArray, type ScriptContext } from './context.js';
import { ScriptError } from './error-code.js';
import { corruptEntry } from './errors.js';

/** Adds `by` to the number at `key` (absent = 0) and returns the new value. */
export async function increment(ctx: ScriptContext, key: string, by: number): Promise<number> {
  const entryKey = ctx.keys.entry(key);
  const [code, json] = replyArray(await ctx.script('increment', entryKey, [entryKey, ctx.keys.index, ctx.keys.meta, key, String(by)])) as [
    number,
    string | undefined,
  ];
  switch (code) {
    case ScriptError.Corrupt:
      throw corruptEntry(entryKey);
    case ScriptError.NotANumber: {
      let value: JsonValue;
      try {
        value = JSON.parse(json ?? 'null') as JsonValue;
      } catch (error) {
        throw corruptEntry(entryKey, 'the value is not JSON', error);
      }
      // The same error core's portable increment throws; JSON null is not a number either
      // (one behaviour on every backend).
      throw new InvalidValueError(key, value, 'increment expected the key to hold a number');
    }
    case ScriptError.NotFinite:
      throw new InvalidValueError('by', by, `the sum at ${JSON.stringify(key)} would not be a finite number`);
    default:
      return Number(json);
  }
}
