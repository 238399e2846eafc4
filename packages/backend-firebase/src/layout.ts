/**
 * How keys, resources and namespaces become Realtime Database paths.
 *
 * The database forbids `.`, `#`, `$`, `[`, `]` and `/` inside a child name. Of those, agent-state
 * keys can only hold `.` and `/` (the key grammar allows `A-Z a-z 0-9 . _ - : @ + = ,` and `/`
 * between segments), so each is swapped for a character the key grammar never uses: `.` -> `!`,
 * `/` -> `|`. The mapping is one character for one (a 512-character key stays under the
 * database's 768-byte name limit) and trivially reversible.
 *
 * Lock, queue and log names also get a `~` prefix, so no name ever parses as an integer: the SDK
 * turns an object whose names are small integers into an array. Entry names use the
 * order-keeping encoding of key-names.ts instead, so that `list` can page with `orderByKey`.
 *
 * Layout of one namespace (a top-level node):
 *
 * ```
 * /<ns>/k/~<key>       { j: value as JSON text, v: version, u: updatedAt, x?: expiresAt, k?: marker }
 * /<ns>/k/~<key>       { v, d, k? }   a tombstone: the last version of a deleted key (format.ts)
 * /<ns>/l/~<resource>  { c: last fencing token (never reset), o?: owner, x?: lease end, k?: marker }
 * /<ns>/t/<id>         { s: 'c' | 'a', d, w? }   a multi-key commit's intent (transaction.ts)
 * /<ns>/m              { fmt: store format, f: version floor }
 * ```
 */

import { entryName } from './key-names.js';

/** Child of the namespace node that holds the entries (store format 3, order-keeping names). */
export const ENTRIES = 'k';
/** Where format-2 stores kept their entries (escaped names, not in key order); moved on open. */
export const LEGACY_ENTRIES = 'e';
/** Child of the namespace node that holds the intent records of multi-key commits. */
export const INTENTS = 't';
/** Child of the namespace node that holds the lock nodes. */
export const LOCKS = 'l';
/** Child of the namespace node that holds the format and the version floor (format.ts). */
export const META = 'm';
/** A node outside every namespace, never written: reading it is the round trip of `Connection.sync()`. */
export const HEALTH_PATH = '~health';

const NAME_PREFIX = '~';

/** Escapes a key, resource or namespace into a legal child name (no prefix). */
export function escapeName(text: string): string {
  return text.replaceAll('.', '!').replaceAll('/', '|');
}

/** Reverses {@link escapeName}. */
export function unescapeName(name: string): string {
  return name.replaceAll('!', '.').replaceAll('|', '/');
}

/** The child name of an entry or lock node. */
export function childName(key: string): string {
  return NAME_PREFIX + escapeName(key);
}

/** The key a child name stands for, or `undefined` when the name is not one of ours. */
export function keyOfChild(name: string): string | undefined {
  return name.startsWith(NAME_PREFIX) ? unescapeName(name.slice(NAME_PREFIX.length)) : undefined;
}

/** Paths of one namespace. */
export class NamespacePaths {
  /** The namespace node, a top-level child of the database. */
  readonly root: string;
  readonly entries: string;
  readonly locks: string;

  constructor(namespace: string) {
    this.root = escapeName(namespace);
    this.entries = `${this.root}/${ENTRIES}`;
    this.locks = `${this.root}/${LOCKS}`;
  }

  /** Path of a commit's intent record from the database root. */
  intent(id: string): string {
    return `${this.root}/${INTENTS}/${id}`;
  }

  /** Path of an entry node from the database root. */
  entry(key: string): string {
    return `${this.root}/${entryPath(key)}`;
  }

  /** Path of a lock node from the database root. */
  lock(resource: string): string {
    return `${this.root}/${lockPath(resource)}`;
  }
}

/** Path of an entry node below its namespace node. */
export function entryPath(key: string): string {
  return `${ENTRIES}/${entryName(key)}`;
}

/** Path of a lock node below its namespace node. */
export function lockPath(resource: string): string {
  return `${LOCKS}/${childName(resource)}`;
}

/**
 * Top-level nodes of the native coordination families, beside the namespace node rather than
 * inside it, so that queue and log traffic never reaches a listener or query on the entries. `~` never occurs in an escaped namespace, so these never collide with another namespace.
 *
 * ```
 * /<ns>~q/~<queue>   n: last sequence; j/<id>: job; r/<priority-seq>: waiting index;
 *                    d/<time>-<id>, f/<time>-<id>: delayed and in-flight indexes (queues.ts)
 * /<ns>~g/~<log>     n: { s: last seq, lo: trimmed up to, b: newest records }; r/<seq>: records (logs.ts)
 * /<ns>~n/q|g/~<name>  names of queues and logs ever used (for names())
 * ```
 */
export interface NativePaths {
  queues: string;
  logs: string;
  names: string;
}

/** The native family roots of a namespace (escaped root as in {@link NamespacePaths}). */
export function nativePaths(root: string): NativePaths {
  return { queues: `${root}~q`, logs: `${root}~g`, names: `${root}~n` };
}

/** Every top-level node a namespace uses, for tools that remove a namespace. */
export function namespaceNodes(namespace: string): string[] {
  const root = escapeName(namespace);
  const native = nativePaths(root);
  return [root, native.queues, native.logs, native.names];
}

/** Zero-padded decimal, so that names sort like the numbers. */
export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
