/**
 * Small pieces every backend needs, written once: version checks, fence checks, lease rules,
 * entry construction and key order. Backends that run their logic in JavaScript (memory, file,
 * SQLite) call these; backends that run it server-side (Redis Lua) mirror them.
 */
import { ConflictError, LockLostError } from './errors.js';
import type { Entry, ExpectedVersion, JsonValue, LockLease } from './types.js';

/** Throws `ConflictError` unless `actual` (null = absent) satisfies `expected`. */
export function assertVersion(key: string, expected: ExpectedVersion | undefined, actual: number | null): void {
  if (expected === undefined) return;
  if (expected === 'absent' ? actual === null : actual === expected) return;
  throw new ConflictError(key, expected, actual ?? 'absent');
}

/** True when a stored lease is held by someone: present and not expired at `now`. */
export function leaseIsLive(lease: Pick<LockLease, 'expiresAt'> | undefined | null, now = Date.now()): boolean {
  return lease !== undefined && lease !== null && lease.expiresAt > now;
}

/**
 * Throws `LockLostError` unless `current` (the stored lease of `fence.resource`) is the very
 * lease `fence` names and is still live.
 */
export function assertLeaseHeld(fence: LockLease, current: LockLease | undefined | null, now = Date.now()): void {
  if (!current || current.owner !== fence.owner || current.token !== fence.token) {
    throw new LockLostError(fence.resource, fence.token, 'it was taken over or released');
  }
  if (current.expiresAt <= now) throw new LockLostError(fence.resource, fence.token, 'its lease expired');
}

/** Builds an entry, leaving `expiresAt` out when there is none. */
export function makeEntry(key: string, value: JsonValue, version: number, updatedAt: number, expiresAt?: number | null): Entry {
  const entry: Entry = { key, value, version, updatedAt };
  if (expiresAt !== undefined && expiresAt !== null) entry.expiresAt = expiresAt;
  return entry;
}

/** Key order used by `list` on every backend: UTF-16 code-unit order (what `<` does on strings). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `key` belongs on a list page for `prefix`/`after`. */
export function keyInPage(key: string, prefix: string | undefined, after: string | undefined): boolean {
  return (prefix === undefined || key.startsWith(prefix)) && (after === undefined || key > after);
}
