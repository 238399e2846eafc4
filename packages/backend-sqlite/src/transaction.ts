/**
 * The commit of an optimistic transaction: one `BEGIN IMMEDIATE` transaction that checks every
 * read version and applies every write. SQLite's WAL makes it all-or-nothing across a kill -9:
 * a commit that did not reach the WAL's commit frame is ignored at the next open.
 */
import { assertVersion, type CommitRequest } from '@agent-state/core';
import { checksumOf } from './codec.js';
import type { Scope } from './context.js';

/** Applies `request` atomically, or throws `ConflictError` and changes nothing. */
export function commit(s: Scope, request: CommitRequest, now: number): void {
  s.immediate(() => {
    for (const read of request.reads) {
      const actual = s.st.readVersion.get(s.namespace, read.key, now) ?? null;
      assertVersion(read.key, read.version ?? 'absent', actual);
    }
    for (const write of request.writes) {
      if (write.kind === 'delete') {
        s.st.deleteEntry.get(s.namespace, write.key, now);
      } else {
        const expiresAt = write.ttlMs === undefined ? null : now + write.ttlMs;
        s.st.upsert.get(s.namespace, write.key, write.json, s.namespace, checksumOf(write.json), now, expiresAt);
      }
    }
  });
}
