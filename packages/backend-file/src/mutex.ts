/**
 * A per-file mutex across processes: a lock file created atomically and exclusively (a symbolic
 * link, see {@link createExclusive}) that names its holder (see {@link mutexOwner}). It guards one
 * key's (or one lock resource's) read-check-write; the section is short and synchronous, so
 * waiters poll with a jittered backoff, up to a deadline (`connect_timeout_ms`), then
 * `TimeoutError` naming the lock file and its holder.
 *
 * A mutex is broken only when its holder is provably dead ({@link holderIsDead}): same boot, same
 * pid namespace, and the pid gone or running another process (another start time); or a holder
 * of an earlier boot. A holder that is alive, or that cannot be seen (another pid namespace), is
 * waited for, however long it holds (a stopped process, a long commit): there is no age rule.
 * Breaking a dead holder's mutex goes through a second exclusive lock file (`…!`) and re-reads
 * the holder under it, so two processes that both saw the same dead holder cannot remove each
 * other's fresh mutex.
 */
import { lstatSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Backoff, TimeoutError, localHost, ownerIsDeadLocally, sleep } from '@agent-state/core';
import { DirCache, errnoOf, ioError, readIfExists } from './fs-io.js';

const PROCESS_TAG = randomBytes(5).toString('hex');
let counter = 0;

/** A new id, unique across processes: a random tag per process and a counter (no syscall per id). */
export function nonce(): string {
  return `${PROCESS_TAG}${(++counter).toString(36)}`;
}

function readQuiet(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The kernel's boot id: processes of another boot are gone. Empty where there is no /proc. */
export const BOOT_ID = (readQuiet('/proc/sys/kernel/random/boot_id') ?? '').trim();

/** The inode number of this process's pid namespace (`pid:[4026531836]`), or empty. */
export const PID_NAMESPACE = ((): string => {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '';
  } catch {
    return '';
  }
})();

/**
 * The start time of process `pid` in this pid namespace (field 22 of `/proc/<pid>/stat`, clock
 * ticks since boot), or `undefined` when there is no such process. A pid reused by another
 * process has another start time.
 */
export function startTimeOf(pid: number | 'self'): string | undefined {
  const stat = readQuiet(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (comm) is in parentheses and may hold spaces: count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const START_TIME = startTimeOf('self') ?? '';
/** True when this process can tell boot, namespace and start time (Linux with /proc). */
const IDENTIFIED = BOOT_ID !== '' && PID_NAMESPACE !== '' && START_TIME !== '';

/**
 * The content of a mutex this process holds: `host:pid:id:kind:boot:pidns:start`, where kind is
 * `tx` when transaction `id` holds it (`w` otherwise). Boot id, pid namespace and start time make
 * the holder unmistakable: another container's process with the same host name and pid, or a
 * later process that got the same pid, is never taken for it.
 */
export function mutexOwner(id: string, tx = false): string {
  return `${localHost()}:${process.pid}:${id}:${tx ? 'tx' : 'w'}:${BOOT_ID}:${PID_NAMESPACE}:${START_TIME}`;
}

/**
 * True only when the process named by a holder is provably gone:
 * - it ran in an earlier boot of this machine (another boot id: the store is on one machine's
 *   local disk, see the README's assumptions), or
 * - same boot and same pid namespace, and its pid is gone or belongs to a process with another
 *   start time.
 * A holder in another pid namespace (another container) cannot be seen, so it is never dead.
 * Holders written in the first-wave format (`host:pid:id[:tx]`, no identity) keep their old rule:
 * dead when that pid is gone on a host of the same name.
 */
export function holderIsDead(holder: string): boolean {
  const parts = holder.split(':');
  const [host, pidText, id] = parts;
  const pid = Number(pidText);
  if (parts.length < 7 || !IDENTIFIED) {
    if (host === localHost() && pid === process.pid) return id !== undefined && !id.startsWith(PROCESS_TAG);
    return ownerIsDeadLocally(holder);
  }
  const [boot, namespace, start] = parts.slice(4);
  if (boot !== BOOT_ID) return boot !== '';
  if (namespace !== PID_NAMESPACE || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return start !== START_TIME;
  const current = startTimeOf(pid);
  return current === undefined || current !== start;
}

/** The transaction id of a mutex content, or `undefined` when a plain write holds it. */
export function txOfOwner(owner: string): string | undefined {
  const parts = owner.split(':');
  return parts[3] === 'tx' ? parts[2] : undefined;
}

/**
 * Creates the lock file `path` holding `content`; false when it exists. The lock file is a
 * symbolic link whose target is the holder (`symlink` fails with EEXIST like O_EXCL does): one
 * system call, and the holder is never unknown, where `open(O_EXCL)` + `write` leaves a window
 * in which a killed process leaves an empty file nobody can attribute.
 */
export function createExclusive(path: string, content: string): boolean {
  try {
    symlinkSync(content, path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw error;
  }
}

/** The holder written in a lock file, or `undefined` when there is none. */
export function readHolder(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'EINVAL') return readIfExists(path); // a regular file put there by hand
    throw ioError(path, 'read lock file', error);
  }
}

/** True when a file exists at `path` (a lock file, a marker). */
export function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Removes a file; already gone is fine. */
export function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw ioError(path, 'unlink', error);
  }
}

/**
 * The holder of a mutex file if it is provably dead, `undefined` if alive, unknown or gone. An
 * empty lock file (only ever put there by hand: ours are never empty) counts as dead.
 */
export function staleHolder(path: string): string | undefined {
  const holder = readHolder(path);
  if (holder === undefined) return undefined;
  return holder === '' || holderIsDead(holder) ? holder : undefined;
}

/**
 * Removes the mutex at `path` if it still holds `seen` (the dead holder observed). Returns
 * false when another process is breaking it right now.
 */
export function breakStale(path: string, seen: string): boolean {
  const breaker = `${path}!`;
  if (!createExclusive(breaker, mutexOwner(nonce()))) {
    const dead = staleHolder(breaker);
    if (dead !== undefined) breakStale(breaker, dead);
    return false;
  }
  try {
    if (readHolder(path) === seen) unlinkQuiet(path);
  } finally {
    unlinkQuiet(breaker);
  }
  return true;
}

/**
 * Called before a stale mutex is broken, with its content. Returns false to say "not yet"
 * (e.g. a dead transaction's intent is being rolled forward by someone else).
 */
export type StaleHandler = (holder: string) => boolean;

/** Bound on any mutex wait until the store is opened with its `connect_timeout_ms`. */
export const DEFAULT_WAIT_MS = 5_000;

/** Milliseconds on the monotonic clock (never steps with the wall clock). */
export const monotonicMs = (): number => performance.now();

/** The `TimeoutError` of a wait for lock file `path` that `holder` kept past the deadline. */
export function waitTimeout(what: string, path: string, holder: string | undefined, waitMs: number): TimeoutError {
  return new TimeoutError(`${what} ${path}${holder === undefined ? '' : ` (held by ${holder})`}`, waitMs);
}

/** The mutex files of one store: acquire (waiting up to a deadline) and release. */
export class Mutexes {
  /** The longest any wait for a mutex may take (`connect_timeout_ms`), then `TimeoutError`. */
  waitMs = DEFAULT_WAIT_MS;

  constructor(
    private readonly dirs: DirCache,
    private readonly onStale: StaleHandler,
  ) {}

  /** One attempt, no waiting. Creates the directory if needed. */
  tryAcquire(path: string, dir: string, owner: string): boolean {
    try {
      return createExclusive(path, owner);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw ioError(path, 'create lock file', error);
    }
    this.dirs.forget(dir);
    try {
      this.dirs.ensure(dir);
      return createExclusive(path, owner);
    } catch (error) {
      throw ioError(path, 'create lock file', error);
    }
  }

  /**
   * Waits for the mutex, recovering it from provably dead holders; `TimeoutError` naming the
   * lock file and its holder when it is still held after {@link waitMs}.
   */
  async acquire(path: string, dir: string, owner: string): Promise<void> {
    let backoff: Backoff | undefined;
    const deadline = monotonicMs() + this.waitMs;
    for (;;) {
      if (this.tryAcquire(path, dir, owner)) return;
      const stale = staleHolder(path);
      if (stale !== undefined && this.onStale(stale) && breakStale(path, stale)) continue;
      const left = deadline - monotonicMs();
      if (left <= 0) throw waitTimeout('waiting for lock file', path, readHolder(path), this.waitMs);
      await sleep(Math.min(left, (backoff ??= new Backoff(1, 25)).next()));
    }
  }

  /** {@link tryAcquire}, then {@link acquire} when someone holds it. */
  async acquireOrWait(path: string, dir: string, owner: string): Promise<void> {
    if (!this.tryAcquire(path, dir, owner)) await this.acquire(path, dir, owner);
  }

  /**
   * Waits until the mutex no longer holds `holder` (released, or recovered from a dead holder);
   * `TimeoutError` after {@link waitMs}.
   */
  async waitWhileHeld(path: string, holder: string): Promise<void> {
    let backoff: Backoff | undefined;
    const deadline = monotonicMs() + this.waitMs;
    for (;;) {
      const current = readHolder(path);
      if (current !== holder) return;
      if (staleHolder(path) === holder && this.onStale(holder) && breakStale(path, holder)) return;
      const left = deadline - monotonicMs();
      if (left <= 0) throw waitTimeout('waiting for the commit holding', path, holder, this.waitMs);
      await sleep(Math.min(left, (backoff ??= new Backoff(1, 10)).next()));
    }
  }

  /** Releases a mutex this process holds. */
  release(path: string): void {
    unlinkQuiet(path);
  }
}
