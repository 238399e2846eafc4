/**
 * Lock leases with fencing tokens. One file per resource under `locks/` holds the current lease
 * (owner, token, expiry) and the last token issued; it is never deleted, so the fencing counter
 * only grows, across releases, expiries and processes. Every change happens under the
 * resource's mutex (see mutex.ts) and rewrites the record in place (see {@link LeaseFile}).
 *
 * No token is handed out twice, even across a power loss (with `durability: fsync`): tokens are
 * reserved in blocks of `COUNTER_BLOCK` (record-file.ts `nextInCounter`, as queue sequences
 * are), and the record naming a new block's end (`reserved`) is fdatasynced before the first
 * token of the block leaves the process. Within one boot the
 * page cache holds the last token issued (a process crash loses nothing); a record last written
 * in an earlier boot (`boot` differs: the machine went down, maybe losing unsynced writes)
 * continues above `reserved`. So one lock in `COUNTER_BLOCK` (and the first after a boot)
 * pays an fdatasync. Extends and releases are not synced: they issue no token, and a lease
 * means nothing after a power loss (every holder is gone).
 */
import { closeSync, constants, fdatasyncSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptDataError, assertLeaseHeld, leaseIsLive, ownerIsDeadLocally, type AcquiredLease, type LockLease } from '@agent-state/core';
import { decodeLease, encodeLease, leaseOf, type StoredLease } from './codec.js';
import { FILE_MODE, ioError, readIfExists } from './fs-io.js';
import { exists, holderIsDead, mutexOwner, nonce } from './mutex.js';
import { nextInCounter } from './record-file.js';
import type { KeyFiles } from './layout.js';
import type { Store } from './context.js';

/** Lease records are padded to whole 512-byte sectors (see {@link LeaseFile.write}). */
const SECTOR = 512;
/** Larger than any lease record (a resource is at most 512 characters). */
const MAX_LEASE_BYTES = 8_192;

/** The stored lease of a resource read without its mutex (for fenced writes, which hold it). */
export function readLease(store: Store, files: KeyFiles): StoredLease | undefined {
  let text: string | undefined;
  try {
    text = readIfExists(files.file);
  } catch (error) {
    throw ioError(files.file, 'read lock file', error);
  }
  // Empty: created by a process killed before its first record; no token was ever issued.
  return text === undefined || text === '' ? undefined : decodeLease(text, files.file);
}

/**
 * A lease file open for one read-check-write (the caller holds its mutex). The record is
 * rewritten in place with one `pwrite` at offset 0, padded to whole sectors, instead of
 * temp + rename: on ext4 a rename over an existing file forces a data flush (`auto_da_alloc`),
 * which made every lock and release cost ~200 µs. A single small `pwrite` cannot be torn by a
 * process crash, and is sector-aligned against power loss.
 */
class LeaseFile {
  readonly stored: StoredLease | undefined;
  readonly #fd: number;
  readonly #size: number;

  constructor(readonly files: KeyFiles) {
    try {
      this.#fd = openSync(files.file, constants.O_RDWR | constants.O_CREAT, FILE_MODE);
    } catch (error) {
      throw ioError(files.file, 'open lock file', error);
    }
    try {
      const buffer = Buffer.allocUnsafe(MAX_LEASE_BYTES);
      this.#size = readSync(this.#fd, buffer, 0, MAX_LEASE_BYTES, 0);
      this.stored = this.#size === 0 ? undefined : decodeLease(buffer.toString('utf8', 0, this.#size), files.file);
    } catch (error) {
      closeSync(this.#fd);
      throw error instanceof CorruptDataError ? error : ioError(files.file, 'read lock file', error);
    }
  }

  write(lease: StoredLease): void {
    const body = Buffer.from(encodeLease(lease).trimEnd());
    // Never shorter than what is there, so no tail of an older record survives after ours.
    const size = Math.max(this.#size, Math.ceil((body.length + 1) / SECTOR) * SECTOR);
    const record = Buffer.alloc(size, 0x20);
    body.copy(record);
    record[size - 1] = 0x0a;
    try {
      writeSync(this.#fd, record, 0, record.length, 0);
    } catch (error) {
      throw ioError(this.files.file, 'write lock file', error);
    }
  }

  /** Makes the record durable (before a new token leaves this process). */
  sync(): void {
    try {
      fdatasyncSync(this.#fd);
    } catch (error) {
      throw ioError(this.files.file, 'fsync lock file', error);
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Runs `fn` on the resource's lease file, holding its mutex. `fn` is synchronous: µs of holding. */
async function withLeaseFile<T>(store: Store, resource: string, fn: (lease: LeaseFile) => T): Promise<T> {
  const files = store.layout.lock(resource);
  await store.lockFiles(files, mutexOwner(nonce()));
  try {
    const lease = new LeaseFile(files);
    try {
      return fn(lease);
    } finally {
      lease.close();
    }
  } finally {
    store.mutexes.release(files.mutex);
  }
}

/**
 * One attempt to take `resource`. A lease is free when released, expired, or taken by a process
 * that is provably gone ({@link holderIsDead}: same boot and pid namespace, pid gone or reused)
 * while its owner names a pid of this host that no longer exists: recovered before its ttl, as
 * that holder cannot use it any more. A lease of a live process, or of one we cannot see
 * (another container), ends only at its ttl.
 */
export function tryLock(store: Store, resource: string, options: { ttlMs: number; owner: string }): Promise<AcquiredLease | null> {
  return withLeaseFile(store, resource, (file) => {
    const now = Date.now();
    const current = leaseOf(file.stored);
    if (current && leaseIsLive(current, now) && !holderGone(file.stored!)) return null;
    const stored = file.stored;
    // Written in an earlier boot (or by the first wave): tokens up to `reserved` may be out there.
    const next = nextInCounter(stored && { last: stored.token, reserved: stored.reserved, boot: stored.boot }, store.durable);
    const token = next.value;
    const lease: LockLease = { resource, owner: options.owner, token, expiresAt: now + options.ttlMs };
    file.write({ ...lease, holder: mutexOwner('lease'), reserved: next.reserved, boot: next.boot });
    // The reservation covering this token is durable before the token is handed out.
    if (next.sync) file.sync();
    // The record still named a holder (a release clears it): its lease ran out or its process is
    // gone. A takeover, audited by core.
    if (current && current.owner !== options.owner) return { ...lease, replaced: current };
    return lease;
  });
}

/**
 * True when a waiter woken by a change in the lease's directory should try `tryLock` now: no
 * process holds the resource's mutex (a holder's unlink of it is the last step of every change,
 * and wakes the watchers again) and the stored lease is free or run out. A damaged or unreadable
 * record says true: `tryLock` reports it. Read without the mutex (a record is one `pwrite`, so a
 * read sees a whole one); a stale answer costs a spurious try or, if the lease was just taken
 * again, nothing: its next release wakes again. A lease whose holder died is not looked for here
 * (a read of /proc per change and listener): core's re-check of the wait takes it.
 */
export function leaseMayBeFree(files: KeyFiles): boolean {
  if (exists(files.mutex)) return false;
  let stored: StoredLease | undefined;
  try {
    const text = readIfExists(files.file);
    stored = text === undefined || text === '' ? undefined : decodeLease(text, files.file);
  } catch {
    return true;
  }
  const current = leaseOf(stored);
  return !current || !leaseIsLive(current, Date.now());
}

/** What a rewrite of the record keeps: the holder, the reservation and its boot. */
function kept(stored: StoredLease | undefined): Partial<StoredLease> {
  if (stored === undefined) return {};
  return {
    ...(stored.holder !== undefined && { holder: stored.holder }),
    ...(stored.reserved !== undefined && { reserved: stored.reserved }),
    ...(stored.boot !== undefined && { boot: stored.boot }),
  };
}

/** True when the process that took a stored lease is provably gone (first-wave records: its owner's pid). */
function holderGone(stored: StoredLease): boolean {
  if (stored.owner === null || !ownerIsDeadLocally(stored.owner)) return false;
  return stored.holder === undefined || holderIsDead(stored.holder);
}

/** Pushes the lease end to now + ttlMs; `LockLostError` if the lease is no longer this one. */
export function extendLock(store: Store, lease: LockLease, ttlMs: number): Promise<LockLease> {
  return withLeaseFile(store, lease.resource, (file) => {
    const now = Date.now();
    assertLeaseHeld(lease, leaseOf(file.stored), now);
    const next: LockLease = { ...lease, expiresAt: now + ttlMs };
    file.write({ ...next, ...kept(file.stored) });
    return next;
  });
}

/** Frees the lease, keeping the token counter; `LockLostError` (nothing freed) if not ours. */
export function releaseLock(store: Store, lease: LockLease): Promise<void> {
  return withLeaseFile(store, lease.resource, (file) => {
    assertLeaseHeld(lease, leaseOf(file.stored));
    file.write({ resource: lease.resource, owner: null, token: file.stored?.token ?? lease.token, expiresAt: 0, ...kept(file.stored) });
  });
}

/**
 * Every live lease of the namespace: each lease record under `locks/`, read without its mutex
 * (a record is rewritten by one `pwrite`, so a read sees a whole one), minus those whose holder is
 * provably gone (free to take). A damaged record is skipped: the listing is for dashboards, and
 * `tryLock` on that resource reports the damage.
 */
export function listLocks(store: Store): LockLease[] {
  const now = Date.now();
  const leases: LockLease[] = [];
  const walk = (dir: string): void => {
    let names: import('node:fs').Dirent[];
    try {
      names = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(dir, 'list locks', error);
    }
    for (const d of names) {
      const path = join(dir, d.name);
      if (d.isDirectory()) walk(path);
      else if (d.isFile() && d.name.endsWith('.json')) {
        let stored: StoredLease | undefined;
        try {
          const text = readIfExists(path);
          stored = text === undefined || text === '' ? undefined : decodeLease(text, path);
        } catch (error) {
          if (error instanceof CorruptDataError) continue;
          throw ioError(path, 'read lock file', error);
        }
        const lease = leaseOf(stored);
        if (lease && leaseIsLive(lease, now) && !holderGone(stored!)) leases.push(lease);
      }
    }
  };
  walk(store.layout.locksDir);
  return leases.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
}
