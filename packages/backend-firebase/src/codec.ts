/**
 * The stored shapes of entry and lock nodes, checked on every read: a node that does not have
 * the shape is damaged data (`CorruptDataError`), never read as absent nor overwritten.
 */
import { CorruptDataError, isExpired, makeEntry, type Entry, type JsonValue, type LockLease } from '@agent-state/core';

/** An entry as stored: the value stays JSON text, so the database never reshapes it. */
export interface EntryNode {
  /** The value, serialized by core. */
  j: string;
  /** Version, from 1. */
  v: number;
  /** updatedAt, epoch ms. */
  u: number;
  /** expiresAt, epoch ms. */
  x?: number;
}

/**
 * What a deleted or purged-after-expiry entry leaves for a while: its last version, so that the
 * key's next incarnation starts above it in the same single-node transaction (see format.ts for
 * why a plain absent node is not enough on the Realtime Database, and how tombstones go).
 */
export interface TombNode {
  /** The last version the key had. */
  v: number;
  /** When it was deleted (server time, epoch ms). */
  d: number;
}

/** A lock as stored: the fencing counter and, while held, the lease. */
export interface LockNode {
  /** Last fencing token issued for the resource; never reset. */
  c: number;
  /** Owner of the current lease. */
  o?: string;
  /** End of the current lease, epoch ms. */
  x?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** True for a tombstone node `{v, d}` (no value). */
export function isTomb(raw: unknown): raw is TombNode {
  return isObject(raw) && raw.j === undefined && Number.isInteger(raw.v) && (raw.v as number) >= 1 && isTime(raw.d) && Object.keys(raw).length === 2;
}

/** Checks the shape of a stored entry node (`null` = absent, a tombstone included). */
export function asEntryNode(raw: unknown, location: string): EntryNode | null {
  if (raw === null || raw === undefined || isTomb(raw)) return null;
  if (
    !isObject(raw) ||
    typeof raw.j !== 'string' ||
    !Number.isInteger(raw.v) ||
    (raw.v as number) < 1 ||
    !isTime(raw.u) ||
    (raw.x !== undefined && !isTime(raw.x))
  ) {
    throw new CorruptDataError(location, 'not an agent-state entry node {j, v, u, x?}');
  }
  return raw as unknown as EntryNode;
}

/** The live entry node: absent when missing or expired at `now`. */
export function liveEntryNode(raw: unknown, location: string, now: number): EntryNode | null {
  const node = asEntryNode(raw, location);
  return node && !isExpired(node.x, now) ? node : null;
}

/** The entry a node stands for; damaged JSON text is `CorruptDataError`. */
export function toEntry(key: string, node: EntryNode, location: string): Entry {
  let value: JsonValue;
  try {
    value = JSON.parse(node.j) as JsonValue;
  } catch (error) {
    throw new CorruptDataError(location, 'the stored value is not valid JSON', { cause: error });
  }
  return makeEntry(key, value, node.v, node.u, node.x);
}

/**
 * The live entry node for a step that changes the key: like {@link liveEntryNode}, and also
 * `CorruptDataError` when its JSON text is damaged, so that damaged data is never overwritten.
 */
export function liveForChange(raw: unknown, location: string, now: number): EntryNode | null {
  const live = liveEntryNode(raw, location, now);
  if (live) {
    try {
      JSON.parse(live.j);
    } catch (error) {
      throw new CorruptDataError(location, 'the stored value is not valid JSON', { cause: error });
    }
  }
  return live;
}

/**
 * The version a write builds on: the live version, else the highest of the tombstone's or
 * expired node's version and the namespace floor (so a new incarnation never reuses a version).
 * `raw` must already have passed {@link liveEntryNode}.
 */
export function baseVersion(raw: unknown, live: EntryNode | null, floor: number): number {
  if (live) return live.v;
  if (isObject(raw) && Number.isInteger(raw.v)) return Math.max(raw.v as number, floor);
  return floor;
}

/** The tombstone a removal leaves: the last version and the time of the removal. */
export function tombOf(v: number, now: number): TombNode {
  return { v, d: now };
}

/** The node for a write: version one past `base` (see {@link baseVersion}). */
export function nextEntryNode(base: number, json: string, now: number, ttlMs: number | undefined): EntryNode {
  const node: EntryNode = { j: json, v: base + 1, u: now };
  if (ttlMs !== undefined) node.x = now + ttlMs;
  return node;
}

/** Checks the shape of a stored lock node (`null` = never locked). */
export function asLockNode(raw: unknown, location: string): LockNode | null {
  if (raw === null || raw === undefined) return null;
  if (
    !isObject(raw) ||
    !Number.isInteger(raw.c) ||
    (raw.c as number) < 0 ||
    (raw.o !== undefined && typeof raw.o !== 'string') ||
    (raw.x !== undefined && !isTime(raw.x))
  ) {
    throw new CorruptDataError(location, 'not an agent-state lock node {c, o?, x?}');
  }
  return raw as unknown as LockNode;
}

/** The lease a lock node holds, if any (live or not; callers check liveness). */
export function leaseOf(resource: string, node: LockNode | null): LockLease | null {
  if (!node || node.o === undefined || node.x === undefined) return null;
  return { resource, owner: node.o, token: node.c, expiresAt: node.x };
}

/**
 * A commit's short leased claim on an entry or lock node (transaction.ts): the node may change
 * only through the commit `i` until it is released, or until `x` (server time) has passed and a
 * client has recovered the commit.
 */
export interface Marker {
  /** The commit's intent id (its record is `<ns>/t/<i>`). */
  i: string;
  /** Lease end, server time (epoch ms). */
  x: number;
}

/** The marker field of a node. */
const MARK = 'k';

/** A node's content without its marker (`null` when nothing else is there), and the marker. */
export function splitMarker(raw: unknown, location: string): { body: unknown; marker: Marker | undefined } {
  if (!isObject(raw) || raw[MARK] === undefined) return { body: raw ?? null, marker: undefined };
  const m = raw[MARK];
  if (!isObject(m) || typeof m.i !== 'string' || !isTime(m.x)) throw new CorruptDataError(location, 'not an agent-state commit marker {i, x}');
  const { [MARK]: _marker, ...rest } = raw;
  return { body: Object.keys(rest).length > 0 ? rest : null, marker: m as unknown as Marker };
}

/** `body` with `marker` set on it (an absent body becomes a node holding only the marker). */
export function withMarker(body: unknown, marker: Marker): Record<string, unknown> {
  return { ...(isObject(body) ? body : {}), [MARK]: marker };
}

/**
 * Thrown by a step that met another commit's marker: the caller waits for the commit to end, or
 * recovers it once the lease has passed, then runs the step again (transaction.ts `onNode`).
 */
export class MarkedError extends Error {
  constructor(
    readonly path: string,
    readonly marker: Marker,
  ) {
    super(`${path} is held by commit ${marker.i}`);
  }
}

/** `splitMarker`, throwing {@link MarkedError} when the node is held by a commit other than `own`. */
export function unmarked(raw: unknown, path: string, location: string, own?: string): unknown {
  const { body, marker } = splitMarker(raw, location);
  if (marker && marker.i !== own) throw new MarkedError(path, marker);
  return body;
}
