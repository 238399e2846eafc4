/**
 * The commit of an optimistic transaction: one READ COMMITTED transaction that takes the advisory
 * lock of every key it read or writes (in hash order, so two commits never deadlock), locks their
 * rows, checks every read version, applies every write, NOTIFYs, COMMITs. Row and advisory locks
 * rather than SERIALIZABLE: nobody else can change those keys between the check and the write, a
 * key that does not exist yet is covered too, and there are no serialization failures to retry
 * (plain reads never block and are never blocked). A crash before COMMIT leaves nothing.
 */
import { assertVersion, type CommitRequest } from '@agent-state/core';
import { assertIntact, checksumOf, rowLocation } from './codec.js';
import { entryLockName, keyPayload, type Context } from './context.js';
import { currentRows, lockNames, nextVersion } from './entries.js';

export async function commit(c: Context, request: CommitRequest): Promise<void> {
  const keys = [...new Set([...request.reads.map((r) => r.key), ...request.writes.map((w) => w.key)])];
  if (keys.length === 0) return;
  await c.db.tx(async (q) => {
    const now = await lockNames(q, c, keys.map((key) => entryLockName(c.namespace, key)));
    const current = await currentRows(q, c, keys, now);
    for (const read of request.reads) {
      const cur = current.get(read.key)!;
      assertVersion(read.key, read.version ?? 'absent', cur.live ? cur.row!.version : null);
    }
    for (const write of request.writes) {
      const cur = current.get(write.key)!;
      if (cur.live) assertIntact(cur.row!, () => rowLocation(c.target, c.namespace, write.key));
      if (write.kind === 'delete') {
        if (cur.row !== undefined) await q(c.sql.remove, [c.namespace, write.key]);
      } else {
        const version = nextVersion(cur);
        const expiresAt = write.ttlMs === undefined ? null : now + write.ttlMs;
        await q(c.sql.put, [c.namespace, write.key, write.json, checksumOf(write.json), version, now, expiresAt]);
      }
      await q(c.sql.notify, [c.channel, keyPayload(write.key)]);
    }
  });
}
