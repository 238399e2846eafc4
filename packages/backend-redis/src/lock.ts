/**
 * Locks: a lease key that exists exactly while the lease is live, a fencing counter that only
 * grows, and a holder record that remembers the last lease until its holder releases it, so a
 * lease that ran out is seen (and audited by core) when the next holder takes over
 * (`acquireLock-3.lua`, `extendLock-2.lua`, `releaseLock-2.lua`). One round trip per attempt;
 * waiting and backoff live in core, woken by the release's PUBLISH (notify.ts).
 */
import type { AcquiredLease, LockLease } from '@agent-state/core';
import { replyArray, type ScriptContext } from './context.js';
import { leaseLost } from './errors.js';

/** The lease key's value: what release, extend and fenced writes compare. */
export function leaseValue(lease: Pick<LockLease, 'token' | 'owner'>): string {
  return `${lease.token} ${lease.owner}`;
}

/** Whole milliseconds for PEXPIREAT; a fraction rounds up so a lease is never shorter than asked. */
export function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/**
 * A holder record, `'<token> <owner> <expiresAt>'` (the owner may hold spaces: token and end are
 * the first and last words), as the lease of `resource`; `undefined` if it does not parse.
 */
export function parseHolder(resource: string, record: string): LockLease | undefined {
  const first = record.indexOf(' ');
  const last = record.lastIndexOf(' ');
  if (first <= 0 || last <= first) return undefined;
  const token = Number(record.slice(0, first));
  const expiresAt = Number(record.slice(last + 1));
  if (!Number.isSafeInteger(token) || !Number.isSafeInteger(expiresAt)) return undefined;
  return { resource, owner: record.slice(first + 1, last), token, expiresAt };
}

/**
 * One attempt to take `resource`: a new lease, or `null` while a live lease exists. The lease
 * carries `replaced` when the last one taken was never released and had run out by the
 * server's clock (its record outlived its lease key): a takeover, which core audits.
 */
export async function tryLock(ctx: ScriptContext, resource: string, ttlMs: number, owner: string): Promise<AcquiredLease | null> {
  const lease = ctx.keys.lease(resource);
  const ttl = wholeMs(ttlMs);
  const reply = await ctx.script('acquireLock', lease, [lease, ctx.keys.fencing(resource), ctx.keys.holder(resource), owner, ttl]);
  if (reply === null) return null;
  const [token, expiresAt, last] = replyArray(reply) as [number, number, (string | null)?];
  const taken: AcquiredLease = { resource, owner, token, expiresAt };
  if (last == null) return taken;
  // The server's now is expiresAt - ttl. A record whose end is still ahead lost its lease key to
  // something other than time (a key deleted by hand): not a lapse, so no takeover to report.
  const replaced = parseHolder(resource, last);
  if (replaced && replaced.owner !== owner && replaced.expiresAt <= expiresAt - ttl) taken.replaced = replaced;
  return taken;
}

/** Pushes the lease end to now + ttlMs; `LockLostError` if it expired or was taken over. */
export async function extendLock(ctx: ScriptContext, lease: LockLease, ttlMs: number): Promise<LockLease> {
  const key = ctx.keys.lease(lease.resource);
  const [code] = replyArray(await ctx.script('extendLock', key, [key, ctx.keys.holder(lease.resource), leaseValue(lease), wholeMs(ttlMs)])) as [number];
  if (code < 0) throw leaseLost(lease, code);
  return { ...lease, expiresAt: code };
}

/** Frees the lease and wakes its waiters; `LockLostError` (and nothing freed) if it is no longer this holder's. */
export async function releaseLock(ctx: ScriptContext, lease: LockLease): Promise<void> {
  const key = ctx.keys.lease(lease.resource);
  const channel = ctx.keys.wakeChannel({ kind: 'lock', name: lease.resource });
  const [code] = replyArray(await ctx.script('releaseLock', key, [key, ctx.keys.holder(lease.resource), leaseValue(lease), channel])) as [number];
  if (code < 0) throw leaseLost(lease, code);
}
