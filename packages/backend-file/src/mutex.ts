/**
 * A per-file mutex across processes: a lock file created atomically and exclusively (a symbolic
 * link, see {@link createExclusive}) that names its holder `host:pid:nonce` (`…:tx` when a
 * transaction holds it). It guards one key's (or one lock
 * resource's) read-check-write; the section is short and synchronous, so waiters poll with a
 * jittered backoff.
 *
 * A holder that died on this host (its pid is gone) is recovered at once; any holder is
 * recovered after {@link STALE_MUTEX_MS} (pid reuse, or a holder on another host). Breaking a
 * stale mutex goes through a second exclusive lock file (`…!`) and re-reads the holder under it, so two
 * processes that both saw the same stale holder cannot remove each other's fresh mutex.
 */
import { lstatSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Backoff, localHost, ownerIsDeadLocally, sleep } from '@agent-state/core';
import { DirCache, errnoOf, ioError, readIfExists } from './fs-io.js';

/** A mutex older than this is taken to be abandoned even if its pid seems alive. */
export const STALE_MUTEX_MS = 60_000;
/** Lock files are never empty (see createExclusive); an empty regular file was put there by hand. */
const EMPTY_STALE_MS = 5_000;
/** The breaker file is held for microseconds; one older than this was abandoned. */
const BREAKER_STALE_MS = 5_000;

const PROCESS_TAG = randomBytes(5).toString('hex');
let counter = 0;

/** A new id, unique across processes: a random tag per process and a counter (no syscall per id). */
export function nonce(): string {
  return `${PROCESS_TAG}${(++counter).toString(36)}`;
}

/** The content of a mutex this process holds; `tx` marks one held by transaction `id`. */
export function mutexOwner(id: string, tx = false): string {
  return `${localHost()}:${process.pid}:${id}${tx ? ':tx' : ''}`;
}

/**
 * True when the process named by a holder (`host:pid:id…`) is gone: dead on this host, or this
 * very pid but an earlier incarnation (a restarted container often gets the same pid again; the
 * id's process tag tells them apart).
 */
export function holderIsDead(holder: string): boolean {
  const [host, pid, id] = holder.split(':');
  if (host === localHost() && Number(pid) === process.pid) return id !== undefined && !id.startsWith(PROCESS_TAG);
  return ownerIsDeadLocally(holder);
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

/** Milliseconds since the lock file was created, or 0 when it is gone. */
export function ageOf(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st ? Date.now() - st.mtimeMs : 0;
}

/** Removes a file; already gone is fine. */
export function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw ioError(path, 'unlink', error);
  }
}

/** The holder of a mutex file if it is stale (dead or too old), `undefined` if live or gone. */
export function staleHolder(path: string): string | undefined {
  const holder = readHolder(path);
  if (holder === undefined) return undefined;
  const age = ageOf(path);
  if (holder === '') return age > EMPTY_STALE_MS ? holder : undefined;
  return holderIsDead(holder) || age > STALE_MUTEX_MS ? holder : undefined;
}

/**
 * Removes the mutex at `path` if it still holds `seen` (the stale content observed). Returns
 * false when another process is breaking it right now.
 */
export function breakStale(path: string, seen: string): boolean {
  const breaker = `${path}!`;
  if (!createExclusive(breaker, mutexOwner(nonce()))) {
    if (staleHolder(breaker) !== undefined || ageOf(breaker) > BREAKER_STALE_MS) unlinkQuiet(breaker);
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

/** The mutex files of one store: acquire (waiting as needed) and release. */
export class Mutexes {
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

  /** Waits for the mutex, recovering it from dead or abandoned holders. */
  async acquire(path: string, dir: string, owner: string): Promise<void> {
    let backoff: Backoff | undefined;
    for (;;) {
      if (this.tryAcquire(path, dir, owner)) return;
      const stale = staleHolder(path);
      if (stale !== undefined && this.onStale(stale) && breakStale(path, stale)) continue;
      await sleep((backoff ??= new Backoff(1, 25)).next());
    }
  }

  /** {@link tryAcquire}, then {@link acquire} when someone holds it. */
  async acquireOrWait(path: string, dir: string, owner: string): Promise<void> {
    if (!this.tryAcquire(path, dir, owner)) await this.acquire(path, dir, owner);
  }

  /** Waits until the mutex no longer holds `holder` (released, or recovered from a dead holder). */
  async waitWhileHeld(path: string, holder: string): Promise<void> {
    let backoff: Backoff | undefined;
    for (;;) {
      const current = readHolder(path);
      if (current !== holder) return;
      if (staleHolder(path) === holder && this.onStale(holder) && breakStale(path, holder)) return;
      await sleep((backoff ??= new Backoff(1, 10)).next());
    }
  }

  /** Releases a mutex this process holds. */
  release(path: string): void {
    unlinkQuiet(path);
  }
}
