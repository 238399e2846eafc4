/**
 * One opened store (a namespace of a directory): its layout, directory cache, mutexes and the
 * document primitives every operation is built from.
 */
import { linkSync, readFileSync, unlinkSync } from 'node:fs';
import { decodeDoc, type StoredDoc } from './codec.js';
import { DirCache, errnoOf, fsyncDir, ioError, replaceFile } from './fs-io.js';
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

  /** Waits for a key's (or lease's) mutex; the fast path is one `symlink`. */
  async lockFiles(files: KeyFiles, owner: string): Promise<void> {
    if (!this.mutexes.tryAcquire(files.mutex, files.dir, owner)) await this.mutexes.acquire(files.mutex, files.dir, owner);
  }

  /** Replaces a document atomically (the caller holds its mutex), keeping a backup of `previous`. */
  putDoc(files: KeyFiles, content: string, previous: StoredDoc | undefined): void {
    if (previous) this.backup(files, previous);
    try {
      replaceFile(files.tmp, files.file, files.dir, content, this.durable);
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
   * costs two metadata calls and no copy; the one `backupCount` versions older is removed.
   */
  backup(files: KeyFiles, previous: StoredDoc): void {
    if (this.backupCount === 0 || files.key.startsWith(INTERNAL_PREFIX)) return;
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
      if (errnoOf(error) === 'ENOENT') return; // the document vanished: a foreign delete, nothing to keep
      throw ioError(target.file, 'backup', error);
    }
    const old = previous.version - this.backupCount;
    if (old >= 1) unlinkQuiet(this.layout.backup(files.key, old).file);
  }
}
