/**
 * The few file-system moves the backend is made of. They are synchronous on purpose: a small
 * sync call costs a few µs where its `fs/promises` twin costs 25-50 µs (thread-pool round trip),
 * and a key's critical section must not yield to the event loop while it holds the key's mutex.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { BackendUnavailableError } from '@agent-state/core';

/** Files are private to the user that runs the agents. */
export const FILE_MODE = 0o600;
/** So are directories. */
export const DIR_MODE = 0o700;

/** An errno of a failed fs call, or `undefined` for anything else. */
export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Wraps an unexpected fs failure as `BackendUnavailableError` naming the path, cause kept. */
export function ioError(path: string, action: string, error: unknown): BackendUnavailableError {
  const code = errnoOf(error) ?? String(error);
  return new BackendUnavailableError('file', path, `${action} failed (${code})`, { cause: error });
}

/** Writes all of `data` to `fd` (a regular file may take it in several writes). */
export function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/** Writes `content` to `path` (created 0600, truncated), fsynced when `durable`. */
export function writeFileDurable(path: string, content: string | Buffer, durable: boolean): void {
  const fd = openSync(path, 'w', FILE_MODE);
  try {
    writeAll(fd, typeof content === 'string' ? Buffer.from(content) : content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a directory, so that renames and unlinks in it survive a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** temp file, fsync, rename, fsync of the directory: the reader sees the old or the new file. */
export function replaceFile(tmp: string, target: string, dir: string, content: string, durable: boolean): void {
  writeFileDurable(tmp, content, durable);
  renameSync(tmp, target);
  if (durable) fsyncDir(dir);
}

/** The text of `path`, or `undefined` when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates directories once per process: a `Set` remembers the ones known to exist, so the hot
 * path does not pay a `mkdir -p` per write.
 */
export class DirCache {
  readonly #known = new Set<string>();

  /** Makes sure `dir` exists (0700). */
  ensure(dir: string): void {
    if (this.#known.has(dir)) return;
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    if (this.#known.size > 50_000) this.#known.clear();
    this.#known.add(dir);
  }

  /** Forgets `dir` (it turned out to be missing: someone removed it). */
  forget(dir: string): void {
    this.#known.delete(dir);
  }
}
