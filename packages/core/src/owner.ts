import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** The host and pid encoded in an owner id, so a backend can tell whether a holder still lives. */
export interface OwnerInfo {
  host: string;
  pid: number;
}

const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'host';

/** A new client id: `host:pid:random`. Unique across processes and hosts. */
export function newClientId(): string {
  return `${HOST}:${process.pid}:${randomBytes(6).toString('hex')}`;
}

/** The owner id of one lock acquisition: `clientId:n`. */
export function lockOwnerId(clientId: string, n: number): string {
  return `${clientId}:${n}`;
}

/** Owner ids of leases held for a remote party start with this; they name no local process. */
export const REMOTE_OWNER_PREFIX = 'remote:';

/** Host and pid from an owner id made by {@link newClientId}, or `undefined` for a foreign or remote one. */
export function parseOwner(owner: string): OwnerInfo | undefined {
  if (owner.startsWith(REMOTE_OWNER_PREFIX)) return undefined;
  const [host, pid] = owner.split(':');
  const n = Number(pid);
  return host && Number.isInteger(n) && n > 0 ? { host, pid: n } : undefined;
}

/** This machine's host name as owner ids carry it. */
export function localHost(): string {
  return HOST;
}

/**
 * True when the owner ran on this host in a process that no longer exists. A foreign or remote
 * owner is never declared dead: only its lease expiry frees it.
 */
export function ownerIsDeadLocally(owner: string): boolean {
  const info = parseOwner(owner);
  if (!info || info.host !== HOST) return false;
  if (info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
