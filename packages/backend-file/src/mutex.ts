/**
 * A per-file mutex across processes: a lock file created atomically and exclusively that names
 * its holder (see {@link mutexOwner}). It guards one key's (or one lock resource's)
 * read-check-write; the section is short and synchronous, so waiters poll with a jittered
 * backoff, up to a deadline (`connect_timeout_ms`), then `TimeoutError` naming the lock file and
 * its holder.
 *
 * A plain mutex (a write, a lock, a queue counter) is a hard link to the opened store's holder
 * file (`holders/…`, written once per client, see {@link Mutexes}): `link` fails with EEXIST like
 * `symlink` does, but creates no inode, and on ext4 allocating and freeing an inode (a symbolic
 * link, an `O_EXCL` file) costs 100–300 µs where a link and its unlink cost ~10 µs: that was half
 * of what a write or a lock+release added to the raw sequence. A transaction's mutexes name the
 * transaction (readers wait for it, recovery rolls it forward), so they stay symbolic links whose
 * target is their holder ({@link createExclusive}); so does every mutex where hard links fail.
 *
 * A mutex is broken only when its holder is provably dead ({@link holderIsDead}): same boot, same
 * pid namespace, and the pid gone or running another process (another start time); or a holder
 * of an earlier boot. A holder that is alive, or that cannot be seen (another pid namespace), is
 * waited for, however long it holds (a stopped process, a long commit): there is no age rule.
 * Breaking a dead holder's mutex goes through a second exclusive lock file (`…!`) and re-reads
 * the holder under it, so two processes that both saw the same dead holder cannot remove each
 * other's fresh mutex.
 */
import { linkSync, lstatSync, readFileSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Backoff, TimeoutError, localHost, ownerIsDeadLocally, sleep } from '@agent-state/core';
import { DirCache, FILE_MODE, errnoOf, ioError, readIfExists } from './fs-io.js';

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

/** Retries of a held mutex on the next turn of the event loop before the backoff's sleeps. */
const QUICK_RETRIES = 2;

/** Bound on any mutex wait until the store is opened with its `connect_timeout_ms`. */
export const DEFAULT_WAIT_MS = 5_000;

/** Milliseconds on the monotonic clock (never steps with the wall clock). */
export const monotonicMs = (): number => performance.now();

/** The `TimeoutError` of a wait for lock file `path` that `holder` kept past the deadline. */
export function waitTimeout(what: string, path: string, holder: string | undefined, waitMs: number): TimeoutError {
  return new TimeoutError(`${what} ${path}${holder === undefined ? '' : ` (held by ${holder})`}`, waitMs);
}

/** Errors of `link` that say this file system (or this pair of directories) has no hard links. */
const NO_HARD_LINKS = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * The mutex files of one store: acquire (waiting up to a deadline) and release.
 *
 * Plain mutexes are hard links to this client's holder file `<holdersDir>/<holder, ':' as '~'>`,
 * whose content is the holder ({@link mutexOwner} of this process, kind `w`): reading a mutex
 * gives its holder as before. The file is made on the first mutex (its content written before
 * anything links it, so a mutex is never empty) and removed by {@link close}; a mutex that
 * outlives it (its holder killed) still reads the same, a link keeping the content. The name
 * carries the holder so that the files of dead clients are swept (on each client's first mutex)
 * without reading them.
 */
export class Mutexes {
  /** The longest any wait for a mutex may take (`connect_timeout_ms`), then `TimeoutError`. */
  waitMs = DEFAULT_WAIT_MS;
  /** The holder file once made. */
  #holderFile: string | undefined;
  /** False once `link` said this store has no hard links: symbolic links from then on. */
  #linkable: boolean;

  constructor(
    private readonly dirs: DirCache,
    private readonly onStale: StaleHandler,
    private readonly holdersDir?: string,
  ) {
    this.#linkable = holdersDir !== undefined;
  }

  /** One attempt, no waiting. Creates the directory if needed. */
  tryAcquire(path: string, dir: string, owner: string): boolean {
    try {
      return this.#create(path, owner);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw ioError(path, 'create lock file', error);
    }
    this.dirs.forget(dir);
    try {
      this.dirs.ensure(dir);
      return this.#create(path, owner);
    } catch (error) {
      throw ioError(path, 'create lock file', error);
    }
  }

  /** Creates the mutex `path` for `owner`: a link to the holder file, or a symbolic link. */
  #create(path: string, owner: string): boolean {
    if (!this.#linkable || txOfOwner(owner) !== undefined) return createExclusive(path, owner);
    for (let attempt = 0; ; attempt++) {
      const holder = this.#holderFile ?? this.#makeHolderFile();
      try {
        linkSync(holder, path);
        return true;
      } catch (error) {
        const code = errnoOf(error);
        if (code === 'EEXIST') return false;
        if (code === 'EMLINK') return createExclusive(path, owner); // 65,000 held at once: this one by symlink
        if (code !== undefined && NO_HARD_LINKS.has(code)) {
          this.#linkable = false;
          return createExclusive(path, owner);
        }
        // ENOENT: the mutex's directory is missing (the caller makes it), or the holder file is
        // (removed by hand, or by close() racing a call): made again, once.
        if (code !== 'ENOENT' || attempt > 0 || exists(holder)) throw error;
        this.#holderFile = undefined;
      }
    }
  }

  #makeHolderFile(): string {
    const holder = mutexOwner(nonce());
    const dir = this.holdersDir!;
    this.dirs.ensure(dir);
    sweepDeadHolderFiles(dir);
    const path = `${dir}/${holder.replaceAll(':', '~')}`;
    writeFileSync(path, holder, { mode: FILE_MODE, flag: 'wx' });
    this.#holderFile = path;
    return path;
  }

  /** Removes the holder file (the store closes). Mutexes still held keep reading the same. */
  close(): void {
    const path = this.#holderFile;
    this.#holderFile = undefined;
    if (path !== undefined) unlinkQuiet(path);
  }

  /**
   * Waits for the mutex, recovering it from provably dead holders; `TimeoutError` naming the
   * lock file and its holder when it is still held after {@link waitMs}.
   */
  async acquire(path: string, dir: string, owner: string): Promise<void> {
    let backoff: Backoff | undefined;
    let quick = QUICK_RETRIES;
    const deadline = monotonicMs() + this.waitMs;
    for (;;) {
      if (this.tryAcquire(path, dir, owner)) return;
      const stale = staleHolder(path);
      if (stale !== undefined && this.onStale(stale) && breakStale(path, stale)) continue;
      const left = deadline - monotonicMs();
      if (left <= 0) throw waitTimeout('waiting for lock file', path, readHolder(path), this.waitMs);
      // Most sections are a few µs long (a lease check, a counter): look again at once, twice,
      // before sleeping the 1-25 ms backoff (a timer's 1 ms floor is hundreds of sections).
      if (quick-- > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      else await sleep(Math.min(left, (backoff ??= new Backoff(1, 25)).next()));
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

/** Removes the holder files of clients that are provably gone (their mutexes read the same). */
function sweepDeadHolderFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw ioError(dir, 'read holders directory', error);
  }
  for (const name of names) if (holderIsDead(name.replaceAll('~', ':'))) unlinkQuiet(`${dir}/${name}`);
}
