/**
 * The namespace's meta node `/<ns>/m = { fmt, f }`: the store format and the version floor.
 *
 * Versions never repeat per key. On the Realtime Database the one atomic step is a transaction
 * on ONE node, which the server accepts when the node's hash is still what the client saw; an
 * absent node always has the same hash, so a key that went present → absent → present → absent
 * while a writer's request was in flight would let that writer's "create from absent" through
 * with a version computed from stale knowledge. So absence is not left ambiguous:
 *
 * - a delete (plain, fenced, a transaction's, the purge of an expired entry, repair) replaces the
 *   entry node with a tombstone `{ v, d }` holding the last version; a write over a tombstone or
 *   an expired node starts at its version + 1 in the same single-node step (no floor needed);
 * - a tombstone older than {@link TOMB_GRACE_MS} is removed by whoever meets it (`list`'s lazy
 *   cleanup), after raising the namespace floor `f` to its version (floor first, so the floor is
 *   never below a version whose node is gone);
 * - a write to a truly absent node starts at `f + 1`. The client keeps a listener on the meta
 *   node and waits for the entry node's listener before such a write; the server pushes the
 *   floor raise before it removes the tombstone, and one connection delivers in order, so a
 *   client that sees the node absent already has the raised floor.
 *
 * The one case this leaves is a create whose request is held back (a connection outage) for
 * longer than the grace while the same key is re-created, deleted and swept: documented in the
 * README. Storage: one small meta node per namespace, plus a tombstone per key deleted in the
 * last {@link TOMB_GRACE_MS} that nobody listed since.
 *
 * Stores made before the floor existed (no meta node) are upgraded on open: the floor is set to
 * the highest version stored (a max, so repeating it is harmless), then the format is recorded.
 * Stores of format 2 kept their entries under `e/` with names that do not keep key order; the
 * upgrade to 3 moves each node to `k/` under its order-keeping name (key-names.ts): a transaction
 * that creates the new node only while it is absent (so a second upgrader, or a client that
 * already wrote there, is never overwritten), then the removal of the old one. Crash-safe (a
 * re-run moves what is left) and idempotent; the format is recorded last.
 */
import { InvalidConfigError } from '@agent-state/core';
import type { DataSnapshot, Reference } from 'firebase-admin/database';
import { entryName } from './key-names.js';
import type { Connection } from './connection.js';
import { ENTRIES, LEGACY_ENTRIES, META, keyOfChild, nativePaths } from './layout.js';
import { movePortableCoordination } from './upgrade.js';
import { runTransaction } from './run-transaction.js';

/**
 * The format this code writes: 2 = tombstones + floor + native coordination nodes; 3 = entries
 * under `k/` with order-keeping names, commit markers and intent records.
 */
export const STORE_FORMAT = 3;
/** Legacy entry nodes moved at once during the upgrade to format 3. */
const MOVE_BATCH = 32;
/** How long a tombstone stays before a sweep folds it into the floor. */
export const TOMB_GRACE_MS = 10 * 60_000;

interface MetaNode {
  fmt: number;
  f: number;
}

function asMeta(raw: unknown): MetaNode | null {
  if (raw === null || raw === undefined || typeof raw !== 'object') return null;
  const m = raw as Partial<MetaNode>;
  return { fmt: typeof m.fmt === 'number' ? m.fmt : 1, f: typeof m.f === 'number' ? m.f : 0 };
}

/** The meta node of one namespace, kept current by a listener. */
export class Meta {
  readonly #connection: Connection;
  readonly #ref: Reference;
  readonly #path: string;
  #floor = 0;

  readonly #root: string;

  private constructor(connection: Connection, root: string) {
    this.#connection = connection;
    this.#root = root;
    this.#path = `${root}/${META}`;
    this.#ref = connection.ref(this.#path);
  }

  /** Starts the listener, creates or upgrades the meta node, refuses a newer format. */
  static async open(connection: Connection, root: string, source: string): Promise<Meta> {
    const meta = new Meta(connection, root);
    let first: unknown;
    await connection.bounded(
      new Promise<void>((resolve, reject) => {
        meta.#ref.on(
          'value',
          (snap) => {
            first ??= snap.val() ?? null;
            meta.#floor = asMeta(snap.val())?.f ?? meta.#floor;
            resolve();
          },
          (error: Error) => reject(connection.unavailable(`cannot listen to ${META}: ${error.message}`, error)),
        );
      }),
      'open',
    );
    const found = asMeta(first);
    if (found && found.fmt > STORE_FORMAT) {
      meta.close();
      throw new InvalidConfigError(
        source,
        'communication.backend',
        `${connection.target} has store format ${found.fmt}, newer than this client's ${STORE_FORMAT}: upgrade @agent-state/backend-firebase`,
      );
    }
    if (!found || found.fmt < STORE_FORMAT) {
      await meta.#upgrade(await meta.#legacyEntries(), found?.fmt ?? 1);
    }
    return meta;
  }

  /** The floor as this client last heard it (kept current by the listener). */
  get floor(): number {
    return this.#floor;
  }

  /** Raises the floor to at least `version` (a max: concurrent raises never lower it). */
  async raise(version: number): Promise<void> {
    if (version <= this.#floor) return;
    await runTransaction(this.#connection, this.#path, (raw) => {
      // Absent (an upgrade in progress): format 1 until the upgrade records its end.
      const m = asMeta(raw) ?? { fmt: 1, f: 0 };
      if (m.f >= version) return { keep: true, result: undefined };
      return { next: { ...m, f: version }, result: undefined };
    });
  }

  close(): void {
    this.#ref.off();
  }

  /**
   * The old entries node, the only one an upgrade reads. Never the namespace node: on
   * `firebase-server`, which ignores unlisten, a listen on it would stay and push the whole
   * namespace to this client on every later write.
   */
  async #legacyEntries(): Promise<DataSnapshot> {
    return this.#connection.bounded(this.#connection.ref(`${this.#root}/${LEGACY_ENTRIES}`).once('value'), 'open');
  }

  async #upgrade(legacy: DataSnapshot, from: number): Promise<void> {
    let max = 0;
    let count = 0;
    legacy.forEach((child) => {
      const v: unknown = child.child('v').val();
      if (typeof v === 'number' && Number.isInteger(v)) max = Math.max(max, v);
      count++;
    });
    // Floor first (a max: harmless to repeat), then the coordination entries, then the entries'
    // new names, then the format.
    if (count > 0 && from < 2) await this.raise(max);
    let moved = 0;
    if (count > 0 && from < 2) {
      moved = await movePortableCoordination(this.#connection, this.#root, nativePaths(this.#root), legacy);
      legacy = await this.#legacyEntries();
    }
    const renamed = await this.#moveEntries(legacy);
    const upgraded = await runTransaction(this.#connection, this.#path, (raw) => {
      const m = asMeta(raw);
      if (m && m.fmt >= STORE_FORMAT) return { keep: true, result: false };
      return { next: { fmt: STORE_FORMAT, f: Math.max(m?.f ?? 0, from < 2 ? max : 0) }, result: count > 0 };
    });
    if (upgraded) {
      process.stderr.write(
        `agent-state firebase: upgraded ${this.#connection.target} from store format ${from} to ${STORE_FORMAT} (${renamed} entries moved to order-keeping names` +
          (from < 2 ? `; version floor ${max} above ${count} stored entries; ${moved} queue jobs and channel or mailbox entries moved to the native layout` : '') +
          ')\n',
      );
    }
  }

  /** Moves every node of `e/` to its order-keeping name under `k/` (see the module comment). */
  async #moveEntries(entries: DataSnapshot): Promise<number> {
    const legacy: { name: string; value: unknown }[] = [];
    entries.forEach((child) => {
      legacy.push({ name: child.key!, value: child.exportVal() as unknown });
    });
    for (let i = 0; i < legacy.length; i += MOVE_BATCH) {
      await Promise.all(
        legacy.slice(i, i + MOVE_BATCH).map(async ({ name, value }) => {
          const key = keyOfChild(name);
          const from = `${this.#root}/${LEGACY_ENTRIES}/${name}`;
          if (key !== undefined) {
            await runTransaction(this.#connection, `${this.#root}/${ENTRIES}/${entryName(key)}`, (raw) =>
              raw === null || raw === undefined ? { next: value, result: undefined } : { keep: true, result: undefined },
            );
          }
          // A name that is not ours is not data this backend wrote: it goes with the old layout.
          await this.#connection.bounded(this.#connection.ref(from).remove(), 'upgrade');
        }),
      );
    }
    return legacy.length;
  }
}
