/**
 * Locks: a lease key that exists exactly while the lease is live, plus a fencing counter that
 * only grows (`acquireLock-2.lua`, `extendLock-1.lua`, `releaseLock-1.lua`). One round trip per
 * attempt; waiting and backoff live in core.
 */
import type { LockLease } from '@agent-state/core';
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

/** One attempt to take `resource`: a new lease, or `null` while a live lease exists. */
export async function tryLock(ctx: ScriptContext, resource: string, ttlMs: number, owner: string): Promise<LockLease | null> {
  const lease = ctx.keys.lease(resource);
  const reply = await ctx.script('acquireLock', lease, [lease, ctx.keys.fencing(resource), owner, wholeMs(ttlMs)]);
  if (reply === null) return null;
  const [token, expiresAt] = replyArray(reply) as [number, number];
  return { resource, owner, token, expiresAt };
}

/** Pushes the lease end to now + ttlMs; `LockLostError` if it expired or was taken over. */
export async function extendLock(ctx: ScriptContext, lease: LockLease, ttlMs: number): Promise<LockLease> {
  const key = ctx.keys.lease(lease.resource);
  const [code] = replyArray(await ctx.script('extendLock', key, [key, leaseValue(lease), wholeMs(ttlMs)])) as [number];
  if (code < 0) throw leaseLost(lease, code);
  return { ...lease, expiresAt: code };
}

/** Frees the lease; `LockLostError` (and nothing freed) if it is no longer this holder's. */
export async function releaseLock(ctx: ScriptContext, lease: LockLease): Promise<void> {
  const key = ctx.keys.lease(lease.resource);
  const [code] = replyArray(await ctx.script('releaseLock', key, [key, leaseValue(lease)])) as [number];
  if (code < 0) throw leaseLost(lease, code);
}
