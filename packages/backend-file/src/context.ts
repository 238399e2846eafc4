/**
 * One opened store (a namespace of a directory): its layout, directory cache, mutexes and the
 * document primitives every operation is built from.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, linkSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { decodeDoc, type StoredDoc } from './codec.js';
import { DirCache, errnoOf, fsyncDir, ioError, replaceFile, writeAll } from './fs-io.js';
import { Mutexes, unlinkQuiet, type StaleHandler } from './mutex.js';
import type { ResolvedFileOptions } from './options.js';
import { Layout, type KeyFiles } from './layout.js';

/** Prefix of coordination keys (queues, channels, agents, mailboxes); they are never backed up. */
const INTERNAL_PREFIX = '@';

/** A namespace of a store directory, opened: what every operation of the backend works on. */
export class Store {
  readonly layout: Layout;
  readonly dirs = new DirCache();
  readonly mutexes: Mutexes;
  readonly durable: boolean;
  readonly backupCount: number;
  /** Ids of multi-key commits known to be fully applied (see settle.ts). */
  readonly settledCommits = new Set<string>();

  constructor(options: ResolvedFileOptions, namespace: string, onStale: StaleHandler) {
    this.layout = new Layout(options.directory, namespace, options.transactionDir);
    this.durable = options.durability === 'fsync';
    this.backupCount = options.backupCount;
    this.mutexes = new Mutexes(this.dirs, onStale, this.layout.holdersDir);
  }

  /** The stored document of a key, expired or not; `undefined` when there is none. */
  readDoc(files: KeyFiles): StoredDoc | undefined {
    let text: string;
    try {
      text = readFileSync(files.file, 'utf8');
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT') return undefined;
      throw ioError(files.file, 'read', error);
    }
    return decodeDoc(text, files.file);
  }

  /** Waits for a key's (or lease's) mutex; the fast path is one `link` (see mutex.ts). */
  async lockFiles(files: KeyFiles, owner: string): Promise<void> {
    if (!this.mutexes.tryAcquire(files.mutex, files.dir, owner)) await this.mutexes.acquire(files.mutex, files.dir, owner);
  }

  /**
   * Replaces a document atomically (the caller holds its mutex), keeping a backup of `previous`:
   * temp file, fsync, rename, fsync of the directory. The temp file is the backup that just fell
   * out of the last `backupCount` (see {@link backup}) when there is one, rewritten in place:
   * on ext4 creating a file (an inode) and freeing one with its blocks cost 0.3-1 ms each under
   * load, about what an fsync costs, so the raw sequence's new temp file and the freed old
   * document are the most expensive steps after the fsyncs, and this skips both.
   */
  putDoc(files: KeyFiles, content: string, previous: StoredDoc | undefined): void {
    const spare = previous ? this.backup(files, previous, true) : undefined;
    try {
      if (spare !== undefined && rewriteSpare(spare, files.tmp, content, this.durable)) {
        renameSync(files.tmp, files.file);
        if (this.durable) fsyncDir(files.dir);
      } else replaceFile(files.tmp, files.file, files.dir, content, this.durable);
    } catch (error) {
      throw ioError(files.file, 'write', error);
    }
  }

  /** Deletes a document (the caller holds its mutex), keeping a backup of `previous`. */
  removeDoc(files: KeyFiles, previous: StoredDoc | undefined): void {
    if (previous) this.backup(files, previous);
    try {
      unlinkSync(files.file);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return;
      throw ioError(files.file, 'delete', error);
    }
    if (this.durable) this.syncDir(files.dir);
  }

  /** fsync of a directory, errors as `BackendUnavailableError`. */
  syncDir(dir: string): void {
    try {
      fsyncDir(dir);
    } catch (error) {
      throw ioError(dir, 'fsync', error);
    }
  }

  /**
   * fsync of a queue bucket a job was just renamed into. Another process may already have
   * claimed that job and removed the emptied bucket: then the job's new home is the claimer's to
   * make durable, and a missing bucket is no error.
   */
  syncBucket(dir: string): void {
    try {
      fsyncDir(dir);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return;
      throw ioError(dir, 'fsync', error);
    }
  }

  /**
   * Keeps the document being replaced as `backups/<key path>.json#<version>`: a hard link, so it
   * costs one metadata call and no copy; the one `backupCount` versions older is removed, or,
   * with `handOver`, returned for the caller to reuse as its temp file (it is no backup any more).
   */
  backup(files: KeyFiles, previous: StoredDoc, handOver = false): string | undefined {
    if (this.backupCount === 0 || files.key.startsWith(INTERNAL_PREFIX)) return undefined;
    const target = this.layout.backup(files.key, previous.version);
    try {
      this.dirs.ensure(target.dir);
      try {
        linkSync(files.file, target.file);
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw error;
        // A key deleted and re-created restarts at version 1: the old backup of that number goes.
        unlinkSync(target.file);
        linkSync(files.file, target.file);
      }
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined; // the document vanished: a foreign delete, nothing to keep
      throw ioError(target.file, 'backup', error);
    }
    const old = previous.version - this.backupCount;
    if (old < 1) return undefined;
    const oldest = this.layout.backup(files.key, old).file;
    if (handOver) return oldest;
    unlinkQuiet(oldest);
    return undefined;
  }
}

/**
 * Moves the backup `spare` to `tmp` and rewrites it with `content` in place (no truncation to
 * zero first, so its blocks are reused, not freed and allocated again), fsynced when `durable`.
 * False when there is no such backup (never written, or removed by hand) or its file has another
 * name too (then only the temp name goes): the caller writes a new temp file instead. A process
 * killed mid-rewrite leaves a torn temp file, which nothing reads and the next write replaces.
 */
function rewriteSpare(spare: string, tmp: string, content: string, durable: boolean): boolean {
  try {
    renameSync(spare, tmp);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
  const fd = openSync(tmp, 'r+');
  try {
    const { nlink, size } = fstatSync(fd);
    if (nlink !== 1) {
      unlinkSync(tmp);
      return false;
    }
    const data = Buffer.from(content);
    writeAll(fd, data);
    if (size > data.length) ftruncateSync(fd, data.length);
    if (durable) fsyncSync(fd);
    return true;
  } finally {
    closeSync(fd);
  }
}
