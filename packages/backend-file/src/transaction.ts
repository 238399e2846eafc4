/**
 * Transactions: optimistic reads checked and writes applied under every involved key's mutex,
 * taken in key order (so two commits never deadlock), with a write-ahead intent for atomicity:
 *
 * 1. stage: each new document is written (and fsynced) to its key's temp file;
 * 2. intent: `tx/<id>.json` lists the operations; written to a temp, fsynced, renamed, and the
 *    directory fsynced. Its existence is the commit point;
 * 3. apply: temps are renamed over the documents, deleted keys unlinked, directories fsynced;
 * 4. the intent is removed, then the mutexes.
 *
 * A process killed before 2 changed no key (its temps are overwritten by the next writer). One
 * killed after 2 left its mutexes behind, so nobody else can write those keys; whoever next
 * meets one of them (or opens the store, or scans every second) sees the holder is dead, rolls
 * the intent forward (renaming the temps still there, unlinking deletes again) and only then
 * frees the keys. Readers take no mutex: while an apply is under way a reader may see some keys
 * new and others old, as with any concurrent writer; a commit that read such a mix fails its
 * read check and is retried by core.
 */
import { readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import {
  CorruptDataError,
  assertVersion,
  compareKeys,
  isExpired,
  type CommitRequest,
} from '@agent-state/core';
import { encodeDoc, type StoredDoc } from './codec.js';
import { errnoOf, ioError, readIfExists, replaceFile, writeFileDurable } from './fs-io.js';
import {
  breakStale,
  createExclusive,
  holderIsDead,
  mutexOwner,
  nonce,
  readHolder,
  staleHolder,
  unlinkQuiet,
} from './mutex.js';
import { freshVersion, raiseFloor } from './format.js';
import type { KeyFiles } from './layout.js';
import type { Store } from './context.js';

/** The write-ahead record of one commit. */
interface Intent {
  /** The mutex content of the committing transaction (`host:pid:id:tx`). */
  owner: string;
  createdAt: number;
  ops: { key: string; kind: 'write' | 'delete' }[];
}

/**
 * Test hook: a process started with `AGENT_STATE_FILE_TEST_STOP=after-intent` (or `after-apply`)
 * stops itself (SIGSTOP) right after the commit point of each multi-key commit (or after its
 * documents are in place, before its intent is removed), holding every mutex of it: how the tests
 * suspend a holder inside a commit at a known point.
 */
const STOP_AT = process.env.AGENT_STATE_FILE_TEST_STOP;

/** Where the intent of commit `id` lives while the commit is under way. */
export const intentPath = (store: Store, id: string): string => `${store.layout.txDir}/${id}.json`;

/** Applies `request` atomically; `ConflictError` (nothing written) when a read went stale. */
export async function commit(store: Store, request: CommitRequest): Promise<void> {
  const id = nonce();
  const owner = mutexOwner(id, true);
  const keys = [...new Set([...request.reads.map((r) => r.key), ...request.writes.map((w) => w.key)])].sort(compareKeys);
  const held: KeyFiles[] = [];
  let keepHeld = false;
  try {
    for (const key of keys) {
      const files = store.layout.data(key);
      await store.lockFiles(files, owner);
      held.push(files);
    }
    const now = Date.now();
    const previous = new Map<string, StoredDoc | undefined>();
    for (const files of held) previous.set(files.key, store.readDoc(files));
    const live = (key: string): StoredDoc | undefined => {
      const doc = previous.get(key);
      return doc && !isExpired(doc.expiresAt, now) ? doc : undefined;
    };
    for (const read of request.reads) assertVersion(read.key, read.version ?? 'absent', live(read.key)?.version ?? null);
    if (request.writes.length === 0) return;
    // Versions never repeat: deleted entries raise the floor before anything changes, and
    // keys without a live document start above it (format.ts).
    const gone = request.writes.filter((w) => w.kind === 'delete').map((w) => previous.get(w.key)?.version ?? 0);
    if (gone.length > 0) await raiseFloor(store, Math.max(...gone));
    const fresh = (key: string): number => {
      const doc = live(key);
      return doc ? doc.version + 1 : freshVersion(store, previous.get(key)?.version);
    };

    // Documents of a multi-key commit name it, so a reader can tell one still being applied.
    const tag = request.writes.length > 1 ? id : undefined;
    const docs = request.writes.map((w) => {
      const files = store.layout.data(w.key);
      const text =
        w.kind === 'write'
          ? encodeDoc(w.key, w.json, fresh(w.key), now, w.ttlMs === undefined ? null : now + w.ttlMs, tag)
          : undefined;
      return { files, text };
    });
    if (docs.length === 1) {
      // One key: the rename alone is atomic, no intent needed.
      const { files, text } = docs[0]!;
      if (text === undefined) store.removeDoc(files, previous.get(files.key));
      else store.putDoc(files, text, previous.get(files.key));
      return;
    }

    for (const { files, text } of docs) {
      if (text === undefined) continue;
      try {
        writeFileDurable(files.tmp, text, store.durable);
      } catch (error) {
        throw ioError(files.tmp, 'write', error);
      }
    }
    const intent: Intent = {
      owner,
      createdAt: now,
      ops: docs.map(({ files, text }) => ({ key: files.key, kind: text === undefined ? 'delete' : 'write' })),
    };
    // The temp's name carries the holder (host, pid, boot, pid namespace, start time), so an
    // intent its writer never finished can be attributed (and discarded) even when it is empty.
    const staging = `${store.layout.txDir}/#${id}~${owner.replaceAll(':', '~')}.tmp`;
    try {
      replaceFile(staging, intentPath(store, id), store.layout.txDir, JSON.stringify(intent), store.durable);
    } catch (error) {
      throw ioError(intentPath(store, id), 'write transaction intent', error);
    }
    // From here on the commit must complete: on failure the keys stay locked (so nobody can
    // see or build on a half-applied commit) until this process ends and another rolls it forward.
    keepHeld = true;
    if (STOP_AT === 'after-intent') process.kill(process.pid, 'SIGSTOP');
    applyOps(store, intent, (key) => previous.get(key));
    if (STOP_AT === 'after-apply') process.kill(process.pid, 'SIGSTOP');
    removeIntent(store, id);
    keepHeld = false;
  } finally {
    if (!keepHeld) for (const files of held.reverse()) store.mutexes.release(files.mutex);
  }
}

/** Renames the staged temps over the documents and unlinks deletes; idempotent. */
function applyOps(store: Store, intent: Intent, previousOf: (key: string) => StoredDoc | undefined): void {
  const dirs = new Set<string>();
  for (const op of intent.ops) {
    const files = store.layout.data(op.key);
    if (op.kind === 'write') {
      try {
        statSync(files.tmp);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') continue; // renamed already: rolled forward before
        throw ioError(files.tmp, 'stat', error);
      }
      const previous = previousOf(op.key);
      if (previous) store.backup(files, previous);
      try {
        renameSync(files.tmp, files.file);
      } catch (error) {
        throw ioError(files.file, 'rename', error);
      }
      dirs.add(files.dir);
    } else {
      const previous = previousOf(op.key);
      if (previous) store.backup(files, previous);
      try {
        unlinkSync(files.file);
        dirs.add(files.dir);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw ioError(files.file, 'delete', error);
      }
    }
  }
  if (store.durable) for (const dir of dirs) store.syncDir(dir);
}

function removeIntent(store: Store, id: string): void {
  unlinkQuiet(intentPath(store, id));
  if (store.durable) store.syncDir(store.layout.txDir);
}

/** A document for backup purposes during recovery; a damaged one is simply not backed up. */
function previousForRecovery(store: Store, key: string): StoredDoc | undefined {
  try {
    return store.readDoc(store.layout.data(key));
  } catch {
    return undefined;
  }
}

/**
 * Rolls the intent of dead transaction `id` forward if there is one, then frees its mutexes.
 * Returns false when another process is recovering it right now (try again later).
 */
export function recoverTransaction(store: Store, id: string): boolean {
  const marker = `${store.layout.txDir}/#${id}.recover`;
  let created: boolean;
  try {
    created = createExclusive(marker, mutexOwner(nonce()));
  } catch (error) {
    throw ioError(marker, 'create recovery marker', error);
  }
  if (!created) {
    const stale = staleHolder(marker);
    if (stale !== undefined) breakStale(marker, stale);
    return false;
  }
  try {
    const path = intentPath(store, id);
    const text = readIfExists(path);
    if (text === undefined) return true; // died before its commit point, or after it finished
    let intent: Intent;
    try {
      intent = JSON.parse(text) as Intent;
      if (typeof intent.owner !== 'string' || !Array.isArray(intent.ops)) throw new Error('missing owner or ops');
    } catch (error) {
      throw new CorruptDataError(path, 'transaction intent is damaged', { cause: error });
    }
    applyOps(store, intent, (key) => previousForRecovery(store, key));
    removeIntent(store, id);
    for (const op of intent.ops) {
      const files = store.layout.data(op.key);
      if (readHolder(files.mutex) === intent.owner) unlinkQuiet(files.mutex);
    }
    return true;
  } finally {
    unlinkQuiet(marker);
  }
}

/**
 * Looks at every intent record: rolls forward those whose process is provably dead, and
 * discards the temp files of intents never completed.
 */
export function recoverAbandoned(store: Store): void {
  const dir = store.layout.txDir;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw ioError(dir, 'read transaction directory', error);
  }
  for (const name of names) {
    const path = `${dir}/${name}`;
    if (name.startsWith('#')) {
      // An incomplete intent or a recovery marker, left by a process that is gone.
      const gone = name.endsWith('.tmp') ? incompleteIsAbandoned(name) : staleHolder(path) !== undefined;
      if (gone) unlinkQuiet(path);
      continue;
    }
    if (!name.endsWith('.json')) continue;
    const text = readIfExists(path);
    if (text === undefined) continue;
    let owner: unknown;
    try {
      owner = (JSON.parse(text) as Partial<Intent>).owner;
    } catch (error) {
      throw new CorruptDataError(path, 'transaction intent is damaged', { cause: error });
    }
    if (typeof owner === 'string' && holderIsDead(owner)) {
      recoverTransaction(store, name.slice(0, -5));
    }
  }
}

/**
 * An intent temp is named `#<id>~<holder, ':' as '~'>.tmp` (first wave: `#<id>~<host>~<pid>.tmp`),
 * so its writer is known even if it is empty.
 */
function incompleteIsAbandoned(name: string): boolean {
  const [id, host, pid, ...rest] = name.slice(1, -'.tmp'.length).split('~');
  if (host === undefined || pid === undefined) return false;
  return holderIsDead(rest.length > 0 ? [host, pid, ...rest].join(':') : `${host}:${pid}:${id ?? ''}`);
}
