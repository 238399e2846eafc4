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

/** Checks the shape of a stored entry node (`null` = absent). */
export function asEntryNode(raw: unknown, location: string): EntryNode | null {
  if (raw === null || raw === undefined) return null;
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

/** The node for a write: version one past the live one (1 when absent). */
export function nextEntryNode(current: EntryNode | null, json: string, now: number, ttlMs: number | undefined): EntryNode {
  const node: EntryNode = { j: json, v: (current?.v ?? 0) + 1, u: now };
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
