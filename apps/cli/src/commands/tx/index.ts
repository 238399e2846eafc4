/**
 * `agent-state tx begin|read|write|delete|commit|rollback`: an optimistic transaction across
 * separate invocations (see record.ts for where it lives and why). `commit` replays the
 * recorded reads into a library `Transaction` (`state.begin()`), so it is validated the same
 * way: every recorded read must still have its version, else CONFLICT and nothing is written.
 */
import type { Entry, JsonValue, StateClient } from '@agent-state/core';
import { ConflictError, assertKey, isStateError, serializeValue } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { formatEntry, formatValue, readValue, type PrintOptions, type ValueOptions } from '../../io.js';
import {
  DEFAULT_TX_TTL_MS,
  assertTxKey,
  bufferWrite,
  changeTx,
  loadTx,
  newTxId,
  txKey,
  unknownTx,
  type TxRecord,
} from './record.js';

/** Starts a transaction; resolves to its id. */
export async function txBeginOp(state: StateClient, ttlMs = DEFAULT_TX_TTL_MS): Promise<string> {
  const id = newTxId();
  const record: TxRecord = { createdAt: Date.now(), reads: [], writes: [] };
  await state.write(txKey(id), record as unknown as JsonValue, { ifVersion: 'absent', ttlMs });
  return id;
}

/**
 * Reads `key` in the transaction and records the version seen. A buffered write of the key is
 * returned instead (like the library). The library returns its first snapshot when a key is read
 * twice; across processes only the version is kept, so a second read that finds another version
 * fails at once with CONFLICT (the commit could only fail the same way).
 */
export async function txReadOp(state: StateClient, id: string, key: string): Promise<Entry | null> {
  assertKey(key);
  const entry = await state.read(key);
  const seen = entry?.version ?? null;
  const record = await changeTx(state, id, (r) => {
    const recorded = r.reads.find(([k]) => k === key);
    if (!recorded) r.reads.push([key, seen]);
    else if (recorded[1] !== seen) {
      throw new ConflictError(key, recorded[1] ?? 'absent', seen ?? 'absent', 'changed since this transaction first read it');
    }
  });
  const pending = record.writes.find((w) => w.key === key);
  if (!pending) return entry;
  if (pending.kind === 'delete') return null;
  const now = Date.now();
  const out: Entry = { key, value: pending.value, version: (entry?.version ?? 0) + 1, updatedAt: now };
  if (pending.ttlMs !== undefined) out.expiresAt = now + pending.ttlMs;
  return out;
}

/** Buffers a write (validated now, applied at commit). */
export async function txWriteOp(state: StateClient, id: string, key: string, value: JsonValue, ttlMs?: number): Promise<void> {
  assertKey(key);
  assertTxKey(key);
  serializeValue(value, state.config.maxValueBytes);
  await changeTx(state, id, (r) => bufferWrite(r, { kind: 'write', key, value, ...(ttlMs !== undefined && { ttlMs }) }));
}

/** Buffers a delete. */
export async function txDeleteOp(state: StateClient, id: string, key: string): Promise<void> {
  assertKey(key);
  assertTxKey(key);
  await changeTx(state, id, (r) => bufferWrite(r, { kind: 'delete', key }));
}

/**
 * Commits atomically through the public Transaction API: a transaction reads every recorded key
 * (checking it still has the version recorded) and the transaction's own record (read at the
 * version loaded, deleted by the commit, so the same id never commits twice), buffers the
 * writes, and commits; the backend refuses the commit if any of those versions moved meanwhile.
 * A stale read → CONFLICT, nothing written, and the transaction is discarded (like the
 * library's, it is over).
 */
export async function txCommitOp(state: StateClient, id: string): Promise<{ writes: number }> {
  const { entry, record } = await loadTx(state, id);
  const key = txKey(id);
  const tx = await state.begin();
  try {
    for (const [k, version] of record.reads) {
      const seen = (await tx.read(k))?.version ?? null;
      if (seen !== version) throw new ConflictError(k, version ?? 'absent', seen ?? 'absent');
    }
    if ((await tx.read(key))?.version !== entry.version) throw new ConflictError(key, entry.version, 'absent');
    for (const w of record.writes) {
      if (w.kind === 'delete') tx.delete(w.key);
      else tx.write(w.key, w.value, w.ttlMs !== undefined ? { ttlMs: w.ttlMs } : undefined);
    }
    tx.delete(key);
    await tx.commit();
  } catch (error) {
    await tx.rollback();
    if (isStateError(error, 'CONFLICT') && (error as ConflictError).key !== key) {
      await state.delete(key, { ifVersion: entry.version }).catch(() => undefined);
    } else if (isStateError(error, 'CONFLICT')) {
      throw await unknownTxOrChanged(state, id);
    }
    throw error;
  }
  return { writes: record.writes.length };
}

async function unknownTxOrChanged(state: StateClient, id: string): Promise<Error> {
  return (await state.read(txKey(id)))
    ? new ConflictError(txKey(id), 'absent', 'absent', 'the transaction changed while it was being committed; commit again')
    : unknownTx(id);
}

/** Discards the transaction. Harmless when it is already gone. */
export async function txRollbackOp(state: StateClient, id: string): Promise<void> {
  await state.delete(txKey(id));
}

/** `tx begin`: prints the new id. */
export async function txBegin(ctx: CommandContext, options: { ttlMs?: number } = {}): Promise<void> {
  const id = await withState(ctx, (state) => txBeginOp(state, options.ttlMs));
  ctx.stdout(`${id}\n`);
}

/** `tx read ID KEY`: prints the value like `get` (exit 1 when absent). */
export async function txRead(ctx: CommandContext, id: string, key: string, options: PrintOptions & { json?: boolean } = {}): Promise<void> {
  const entry = await withState(ctx, (state) => txReadOp(state, id, key));
  if (!entry) throw new NotFoundError(`no key ${key}`);
  ctx.stdout(options.json ? formatEntry(entry) : formatValue(entry.value, options));
}

/** `tx write ID KEY VALUE|-`. */
export async function txWrite(ctx: CommandContext, id: string, key: string, text: string | undefined, options: ValueOptions & { ttlMs?: number } = {}): Promise<void> {
  const value = await readValue(text, options, ctx.stdin);
  await withState(ctx, (state) => txWriteOp(state, id, key, value, options.ttlMs));
}

/** `tx delete ID KEY`. */
export async function txDelete(ctx: CommandContext, id: string, key: string): Promise<void> {
  await withState(ctx, (state) => txDeleteOp(state, id, key));
}

/** `tx commit ID`: prints nothing (`{"committed":true,"writes":n}` with `--json`). */
export async function txCommit(ctx: CommandContext, id: string, options: { json?: boolean } = {}): Promise<void> {
  const result = await withState(ctx, (state) => txCommitOp(state, id));
  if (options.json) ctx.stdout(`${JSON.stringify({ committed: true, ...result })}\n`);
}

/** `tx rollback ID`. */
export async function txRollback(ctx: CommandContext, id: string): Promise<void> {
  await withState(ctx, (state) => txRollbackOp(state, id));
}
