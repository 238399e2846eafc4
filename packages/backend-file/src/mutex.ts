/**
 * A per-file mutex across processes: a lock file created with O_EXCL (`open(…, 'wx')`) that
 * holds `host:pid:nonce` (`…:tx` when a transaction holds it). It guards one key's (or one lock
 * resource's) read-check-write; the section is short and synchronous, so waiters poll with a
 * jittered backoff.
 *
 * A holder that died on this host (its pid is gone) is recovered at once; any holder is
 * recovered after {@link STALE_MUTEX_MS} (pid reuse, or a holder on another host). Breaking a
 * stale mutex goes through a second O_EXCL file (`…!`) and re-reads the holder under it, so two
 * processes that both saw the same stale holder cannot remove each other's fresh mutex.
 */
import { closeSync, linkSync, openSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Backoff, localHost, ownerIsDeadLocally, sleep } from '@agent-state/core';
import { DirCache, FILE_MODE, errnoOf, ioError, readIfExists, writeAll } from './fs-io.js';

/** A mutex older than this is taken to be abandoned even if its pid seems alive. */
export const STALE_MUTEX_MS = 60_000;
/** Lock files are never empty (see createExclusive); an empty one was damaged by someone else. */
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

/** The transaction id of a mutex content, or `undefined` when a plain write holds it. */
export function txOfOwner(owner: string): string | undefined {
  const parts = owner.split(':');
  return parts[3] === 'tx' ? parts[2] : undefined;
}

/**
 * Creates `path` exclusively with `content`; false when it exists. The content is written to a
 * private file first and hard-linked into place (`link` fails with EEXIST like O_EXCL does), so
 * the lock file is never seen empty: a holder killed between `open(O_EXCL)` and `write` would
 * otherwise leave a file nobody could attribute to a dead process.
 */
export function createExclusive(path: string, content: string): boolean {
  const own = `${path}~${PROCESS_TAG}`;
  const fd = openSync(own, 'w', FILE_MODE);
  try {
    writeAll(fd, Buffer.from(content));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(own, path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(own);
  }
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
  let content: string | undefined;
  let age: number;
  try {
    content = readIfExists(path);
    if (content === undefined) return undefined;
    age = Date.now() - statSync(path).mtimeMs;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw ioError(path, 'inspect lock file', error);
  }
  if (content === '') return age > EMPTY_STALE_MS ? content : undefined;
  return ownerIsDeadLocally(content) || age > STALE_MUTEX_MS ? content : undefined;
}

/**
 * Removes the mutex at `path` if it still holds `seen` (the stale content observed). Returns
 * false when another process is breaking it right now.
 */
export function breakStale(path: string, seen: string): boolean {
  const breaker = `${path}!`;
  if (!createExclusive(breaker, mutexOwner(nonce()))) {
    if (staleHolder(breaker) !== undefined || breakerTooOld(breaker)) unlinkQuiet(breaker);
    return false;
  }
  try {
    if (readIfExists(path) === seen) unlinkQuiet(path);
  } finally {
    unlinkQuiet(breaker);
  }
  return true;
}

function breakerTooOld(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > BREAKER_STALE_MS;
  } catch {
    return false;
  }
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

  /** Waits until the mutex no longer holds `holder` (released, or recovered from a dead holder). */
  async waitWhileHeld(path: string, holder: string): Promise<void> {
    let backoff: Backoff | undefined;
    for (;;) {
      const current = readIfExists(path);
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
