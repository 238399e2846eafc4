/**
 * Transaction commit: one `commit-n.lua` call validates every read version and applies every
 * write and delete, atomically on the server, so a client killed at any moment leaves all of the
 * writes or none.
 */
import { ConflictError, type CommitRequest } from '@agent-state/core';
import { replyArray, type ScriptContext } from './context.js';
import { ScriptError } from './error-code.js';
import { corruptEntry } from './errors.js';
import { wholeMs } from './lock.js';

/** Applies `request` or throws `ConflictError` (nothing written). */
export async function commit(ctx: ScriptContext, request: CommitRequest): Promise<void> {
  const { reads, writes } = request;
  if (writes.length === 0 && reads.length === 0) return;
  const keys = [ctx.keys.index, ctx.keys.meta, ...reads.map((r) => ctx.keys.entry(r.key)), ...writes.map((w) => ctx.keys.entry(w.key))];
  const args: (string | number)[] = [keys.length, ...keys, reads.length, writes.length];
  for (const read of reads) args.push(read.version ?? 0);
  for (const write of writes) {
    if (write.kind === 'delete') args.push(write.key, 'd', '', '');
    else args.push(write.key, 'w', write.json, write.ttlMs === undefined ? '' : wholeMs(write.ttlMs));
  }
  const reply = replyArray(await ctx.script('commit', ctx.keys.index, args)) as number[];
  const code = reply[0]!;
  if (code === ScriptError.Conflict) {
    const read = reads[reply[1]! - 1]!;
    const actual = reply[2]!;
    throw new ConflictError(read.key, read.version ?? 'absent', actual === 0 ? 'absent' : actual, 'a transaction read went stale');
  }
  if (code === ScriptError.Corrupt) throw corruptEntry(keys[1 + reply[1]!] ?? ctx.keys.index);
}
