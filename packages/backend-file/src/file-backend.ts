/**
 * The file backend: one JSON document per key, written by temp + fsync + rename; per-key lock
 * files (exclusive symlinks) for read-check-write across processes; leases with fencing counters in lock files;
 * write-ahead intents for transactions. See README.md for the layout and the algorithms.
 */
import { accessSync, constants, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import {
  BackendUnavailableError,
  CorruptDataError,
  InvalidValueError,
  assertLeaseHeld,
  assertVersion,
  isExpired,
  makeEntry,
  type BackendCapabilities,
  type BackendDeleteOptions,
  type BackendInitContext,
  type BackendWriteOptions,
  type CommitRequest,
  type CommunicationBackend,
  type Entry,
  type HealthReport,
  type JsonValue,
  type ListPageRequest,
  type LockLease,
  type RepairReport,
} from '@agent-state/core';
import { freshVersion, openFormat, raiseFloor } from './format.js';
import { FileLogs } from './logs.js';
import { FileNotify } from './notify.js';
import { FileQueues } from './queues.js';
import { removeDamaged } from './repair.js';
import { moveCoordinationEntries } from './upgrade.js';
import { encodeDoc, leaseOf, type StoredDoc } from './codec.js';
import { DIR_MODE, errnoOf } from './fs-io.js';
import { listPage, type ExpiredDoc } from './list.js';
import { extendLock, listLocks, readLease, releaseLock, tryLock } from './lock.js';
import { mutexOwner, nonce, txOfOwner, unlinkQuiet } from './mutex.js';
import { resolveOptions, type FileBackendOptions, type ResolvedFileOptions } from './options.js';
import type { KeyFiles } from './layout.js';
import { commitSettled, readSettled, waitForCommit } from './settle.js';
import { Store } from './context.js';
import { commit, recoverAbandoned, recoverTransaction } from './transaction.js';
import { Watches } from './watch.js';

/** How often (at most) operations look for intents of dead transactions to roll forward. */
const RECOVERY_SCAN_MS = 1_000;

/** The `file` backend. Create it with {@link createFileBackend}. */
export class FileBackend implements CommunicationBackend {
  readonly name = 'file';
  readonly capabilities: BackendCapabilities = {
    multiProcess: true,
    persistent: true,
    nativeIncrement: true,
    coordination: { queues: true, logs: true, notify: true, lockWake: true },
  };
  /** Native queues: one rename per state change (queues.ts). */
  readonly queues: FileQueues = new FileQueues(() => this.#s());
  /** Native logs: a file per record, a `meta` commit point (logs.ts). */
  readonly logs: FileLogs = new FileLogs(() => this.#s());
  /** Wakeups by inotify on the files every change touches, lock releases included (notify.ts). */
  readonly notify: FileNotify = new FileNotify(
    () => this.#s(),
    () => {
      if (!this.#watches) throw new Error('file backend used before init or after close');
      return this.#watches;
    },
    () => this.queues,
  );
  readonly #options: ResolvedFileOptions;
  #store: Store | undefined;
  #watches: Watches | undefined;
  #nextScan = 0;

  constructor(options: FileBackendOptions) {
    this.#options = resolveOptions(options);
  }

  async init(context: BackendInitContext): Promise<void> {
    const store: Store = new Store(this.#options, context.namespace, (holder) => staleHolderGone(store, holder));
    // Every wait for a mutex or a commit in progress ends here, with TimeoutError naming the path.
    store.mutexes.waitMs = context.connectTimeoutMs;
    const { dataDir, locksDir, txDir } = store.layout;
    for (const dir of [dataDir, locksDir, txDir]) {
      try {
        mkdirSync(dir, { recursive: true, mode: DIR_MODE });
        accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      } catch (error) {
        throw new BackendUnavailableError('file', dir, `cannot create or write the directory (${errnoOf(error) ?? String(error)})`, {
          cause: error,
        });
      }
      store.dirs.ensure(dir);
    }
    // Lock files are symbolic links: make sure this file system has them (and takes writes).
    const probe = `${dataDir}/#probe~${nonce()}.lock`;
    try {
      symlinkSync('probe', probe);
      unlinkSync(probe);
    } catch (error) {
      throw new BackendUnavailableError('file', dataDir, `cannot create lock files (symbolic links) here (${errnoOf(error) ?? String(error)})`, {
        cause: error,
      });
    }
    // Roll forward (or discard) what processes that died mid-commit left behind.
    recoverAbandoned(store);
    // The format check and upgrade (format.ts, upgrade.ts) use the native families: open first.
    this.#store = store;
    try {
      const upgraded = await openFormat(store, () => moveCoordinationEntries(store, this.queues, this.logs));
      if (upgraded !== undefined) process.stderr.write(`${upgraded}\n`);
    } catch (error) {
      this.#store = undefined;
      store.mutexes.close();
      throw error;
    }
    this.#nextScan = Date.now() + RECOVERY_SCAN_MS;
    this.#watches = new Watches(store.dirs);
  }

  async close(): Promise<void> {
    // Nothing else is held between calls: no timer, and mutexes are released by each call (the
    // holder file they link to goes now).
    await this.notify.closeAll();
    this.#watches?.closeAll();
    this.#watches = undefined;
    this.#store?.mutexes.close();
    this.#store = undefined;
  }

  /**
   * Calls `onChange` soon after `key` may have been written by any process on this machine:
   * an inotify watch of the directory of its document (see watch.ts). A hint only: where the
   * watch cannot be set up or dies, nothing is called and core's polling does the work.
   */
  watch(key: string, onChange: () => void): () => void {
    const store = this.#s();
    const files = store.layout.data(key);
    return this.#watches!.watch(files.dir, files.file, onChange);
  }

  async health(): Promise<HealthReport> {
    const store = this.#s();
    const started = performance.now();
    let ok = true;
    try {
      accessSync(store.layout.dataDir, constants.W_OK);
    } catch {
      ok = false;
    }
    return {
      ok,
      backend: this.name,
      latencyMs: performance.now() - started,
      target: store.layout.namespaceDir,
      details: { durability: this.#options.durability, backupCount: store.backupCount, transactionDir: store.layout.txDir },
    };
  }

  async read(key: string): Promise<Entry | null> {
    const store = this.#s();
    this.#tick();
    const doc = await readSettled(store, store.layout.data(key));
    return toEntry(key, doc, Date.now());
  }

  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    const store = this.#s();
    this.#tick();
    const docs: (StoredDoc | undefined)[] = [];
    for (const key of keys) docs.push(await readSettled(store, store.layout.data(key)));
    const now = Date.now();
    return docs.map((doc, i) => toEntry(keys[i]!, doc, now));
  }

  async write(key: string, value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
    const store = this.#s();
    this.#tick();
    return this.#underKey(key, options.fence, (files) => {
      const now = Date.now();
      const previous = store.readDoc(files);
      const live = liveOnly(previous, now);
      assertVersion(key, options.ifVersion, live?.version ?? null);
      const version = live ? live.version + 1 : freshVersion(store, previous?.version);
      const expiresAt = options.ttlMs === undefined ? null : now + options.ttlMs;
      store.putDoc(files, encodeDoc(key, options.json, version, now, expiresAt), previous);
      // `value` itself, as the other backends return it: core checked it is plain JSON and
      // serialized it to `options.json`; parsing the text back would cost every write a parse.
      return makeEntry(key, value, version, now, expiresAt);
    });
  }

  async delete(key: string, options: BackendDeleteOptions): Promise<boolean> {
    const store = this.#s();
    this.#tick();
    return this.#underKey(key, options.fence, async (files) => {
      const previous = store.readDoc(files);
      const live = liveOnly(previous, Date.now());
      assertVersion(key, options.ifVersion, live?.version ?? null);
      if (previous) {
        // The floor first: a crash in between leaves it high, never the key re-creatable low.
        await raiseFloor(store, previous.version);
        store.removeDoc(files, previous);
      }
      return live !== undefined;
    });
  }

  /** Adds `by` under the key's mutex: one read and one write, never a retry. */
  async increment(key: string, by: number): Promise<number> {
    const store = this.#s();
    this.#tick();
    return this.#underKey(key, undefined, (files) => {
      const now = Date.now();
      const previous = store.readDoc(files);
      const live = liveOnly(previous, now);
      // Absent (or expired) counts as 0; anything but a number, JSON null included, is refused.
      const current = live ? live.value : 0;
      if (typeof current !== 'number') throw new InvalidValueError(key, current, 'increment expected the key to hold a number');
      const next = current + by;
      const version = live ? live.version + 1 : freshVersion(store, previous?.version);
      store.putDoc(files, encodeDoc(key, JSON.stringify(next), version, now, live?.expiresAt ?? null), previous);
      return next;
    });
  }

  async list(request: ListPageRequest): Promise<Entry[]> {
    const store = this.#s();
    this.#tick();
    for (;;) {
      const { entries, commits, expired } = listPage(store, request);
      if (expired.length > 0) await sweepExpired(store, expired);
      // As in read (settle.ts): an entry of a commit under way means waiting for that commit
      // and reading the page again (dropping the entry would end core's paging early).
      const pending = [...commits].find((id) => !commitSettled(store, id));
      if (pending === undefined) return entries;
      await waitForCommit(store, pending);
    }
  }

  async tryLock(resource: string, options: { ttlMs: number; owner: string }): Promise<LockLease | null> {
    return tryLock(this.#s(), resource, options);
  }

  async extendLock(lease: LockLease, ttlMs: number): Promise<LockLease> {
    return extendLock(this.#s(), lease, ttlMs);
  }

  async releaseLock(lease: LockLease): Promise<void> {
    return releaseLock(this.#s(), lease);
  }

  async listLocks(): Promise<LockLease[]> {
    return listLocks(this.#s());
  }

  /**
   * Removes a damaged document: the only way past its `CorruptDataError`. The damaged bytes are
   * kept aside as `backups/<key>.json#damaged-<id>`; the floor is raised above the version the
   * damaged text still shows, its backups, or (when neither tells) every version on disk.
   * A healthy or absent key is left alone (`removed: false`).
   */
  async repair(key: string): Promise<RepairReport> {
    const store = this.#s();
    this.#tick();
    return this.#underKey(key, undefined, async (files) => {
      try {
        store.readDoc(files);
        return { key, removed: false };
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        const kept = await removeDamaged(store, files);
        return { key, removed: true, damage: `${error.message}; the damaged file was moved to ${kept}` };
      }
    });
  }

  async commit(request: CommitRequest): Promise<void> {
    const store = this.#s();
    this.#tick();
    return commit(store, request);
  }

  /**
   * Runs the synchronous `fn` holding the key's mutex and, for a fenced call, the lease's mutex
   * first (leases before keys, everywhere, so no two callers wait on each other in a cycle).
   */
  async #underKey<T>(key: string, fence: LockLease | undefined, fn: (files: KeyFiles) => T | Promise<T>): Promise<T> {
    const store = this.#s();
    const owner = mutexOwner(nonce());
    const files = store.layout.data(key);
    const lease = fence ? store.layout.lock(fence.resource) : undefined;
    if (lease) await store.lockFiles(lease, owner);
    try {
      await store.lockFiles(files, owner);
      try {
        // Checked with both held: the lease cannot change, and cannot have run out while waiting.
        if (fence && lease) assertLeaseHeld(fence, leaseOf(readLease(store, lease)), Date.now());
        return await fn(files);
      } finally {
        store.mutexes.release(files.mutex);
      }
    } finally {
      if (lease) store.mutexes.release(lease.mutex);
    }
  }

  /** Now, and once a second a look for intents that dead processes left behind. */
  #tick(): number {
    const now = Date.now();
    if (now >= this.#nextScan) {
      this.#nextScan = now + RECOVERY_SCAN_MS;
      recoverAbandoned(this.#s());
    }
    return now;
  }

  #s(): Store {
    if (!this.#store) throw new Error('file backend used before init or after close');
    return this.#store;
  }
}

/**
 * The expiry sweep: expired documents a listing walked past are removed, so expired entries
 * (a portable channel's messages, say) leave no file behind. The floor is raised once, to the
 * highest of their versions, before any goes; each is then removed under its mutex if it is
 * still that expired version (a key being written right now is skipped: the next listing
 * passes it again).
 */
async function sweepExpired(store: Store, expired: ExpiredDoc[]): Promise<void> {
  await raiseFloor(store, Math.max(...expired.map((e) => e.version)));
  const owner = mutexOwner(nonce());
  for (const { key, version } of expired) {
    const files = store.layout.data(key);
    if (!store.mutexes.tryAcquire(files.mutex, files.dir, owner)) continue;
    try {
      let doc: StoredDoc | undefined;
      try {
        doc = store.readDoc(files);
      } catch {
        continue; // damaged meanwhile: never removed by a sweep
      }
      if (doc && doc.version === version && doc.tx === undefined && isExpired(doc.expiresAt, Date.now())) {
        // Not fsynced: an unlink lost to a power loss brings back a document that is expired anyway.
        store.backup(files, doc);
        unlinkQuiet(files.file);
      }
    } finally {
      store.mutexes.release(files.mutex);
    }
  }
}

/** A stale mutex held by a dead transaction: its intent is rolled forward before it is freed. */
function staleHolderGone(store: Store, holder: string): boolean {
  const tx = txOfOwner(holder);
  return tx === undefined || recoverTransaction(store, tx);
}

function liveOnly(doc: StoredDoc | undefined, now: number): StoredDoc | undefined {
  return doc && !isExpired(doc.expiresAt, now) ? doc : undefined;
}

function toEntry(key: string, doc: StoredDoc | undefined, now: number): Entry | null {
  if (!doc || isExpired(doc.expiresAt, now)) return null;
  return makeEntry(key, doc.value, doc.version, doc.updatedAt, doc.expiresAt);
}

/** Creates a file backend from typed options. */
export function createFileBackend(options: FileBackendOptions): FileBackend {
  return new FileBackend(options);
}

