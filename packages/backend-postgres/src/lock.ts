/**
 * Leases with fencing tokens. The lease row and the per-resource counter live in separate tables
 * (`locks`, `fencing`): a released or expired lease row may go, the counter never does, so a
 * token is never issued twice for a resource. Times are the server's clock.
 */
import { LockLostError, assertLeaseHeld, type AcquiredLease, type LockLease } from '@agent-state/core';
import { lockPayload, resourceLockName, type Context } from './context.js';
import { lockNames } from './entries.js';

type LockRow = { owner: string; token: number; expires_at: number; waiting?: boolean };

/**
 * Takes `resource` if no live lease holds it: one transaction under the resource's advisory lock.
 * A live lease found here is marked as waited for (once per lease), so its release NOTIFYs.
 */
export function tryLock(c: Context, resource: string, ttlMs: number, owner: string): Promise<AcquiredLease | null> {
  return c.db.tx(async (q) => {
    const now = await lockNames(q, c, [resourceLockName(c.namespace, resource)]);
    const row = (await q<LockRow>(c.sql.lockRowUpdate, [c.namespace, resource]))[0];
    if (row !== undefined && row.expires_at > now) {
      if (row.waiting !== true) await q(c.sql.markWaiting, [c.namespace, resource]);
      return null;
    }
    const token = (await q<{ last_token: number }>(c.sql.nextToken, [c.namespace, resource]))[0]!.last_token;
    const expiresAt = now + ttlMs;
    await q(c.sql.putLock, [c.namespace, resource, owner, token, expiresAt]);
    // An expired row not yet swept (released rows are deleted): a takeover, audited by core.
    if (row !== undefined && row.owner !== owner) {
      return { resource, owner, token, expiresAt, replaced: { resource, owner: row.owner, token: Number(row.token), expiresAt: Number(row.expires_at) } };
    }
    return { resource, owner, token, expiresAt };
  });
}

/** Moves the lease end to now + ttlMs: one statement that checks owner, token and liveness. */
export async function extendLock(c: Context, lease: LockLease, ttlMs: number): Promise<LockLease> {
  const rows = await c.db.query<{ expires_at: number }>(c.sql.extendLock, [c.namespace, lease.resource, lease.owner, lease.token, ttlMs]);
  if (rows.length === 0) throw await lost(c, lease);
  return { ...lease, expiresAt: rows[0]!.expires_at };
}

/**
 * Frees the lease if it is still this holder's; otherwise changes nothing. One statement, which
 * NOTIFYs the lock topic (delivered at its commit) when a tryLock found the lease taken.
 */
export async function releaseLock(c: Context, lease: LockLease): Promise<void> {
  const rows = await c.db.query(c.sql.releaseLock, [c.namespace, lease.resource, lease.owner, lease.token, c.channel, lockPayload(lease.resource)]);
  if (rows.length === 0) throw await lost(c, lease);
}

/** The LockLostError that says why (taken over, released or expired). */
async function lost(c: Context, lease: LockLease): Promise<LockLostError> {
  const row = (await c.db.query<LockRow & { now: number }>(c.sql.readLock, [c.namespace, lease.resource]))[0];
  try {
    assertLeaseHeld(lease, row && { resource: lease.resource, owner: row.owner, token: row.token, expiresAt: row.expires_at }, row?.now);
  } catch (error) {
    if (error instanceof LockLostError) return error;
    throw error;
  }
  return new LockLostError(lease.resource, lease.token);
}

/** Every live lease of the namespace (server clock), in resource order: for dashboards. */
export async function listLocks(c: Context): Promise<LockLease[]> {
  const rows = await c.db.query<LockRow & { resource: string }>(c.sql.listLocks, [c.namespace]);
  return rows
    .map((r) => ({ resource: r.resource, owner: r.owner, token: Number(r.token), expiresAt: Number(r.expires_at) }))
    .sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
}
