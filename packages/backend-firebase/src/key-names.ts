/**
 * The stored name of an entry node: an encoding of the key that keeps key order, so that `list`
 * can page with `orderByKey()` / `startAt()` / `limitToFirst()` instead of sorting in JavaScript.
 *
 * The database forbids `.` and `/` in a name, and nothing lies between `-` (0x2D) and `0`
 * (0x30) to stand for them, so the five key characters below `0` move down together, one
 * character for one: `+ , - . /` become `) * + , -`. Every other key character (digits, letters,
 * `: = @ _`) is itself. A mapping that is strictly increasing on characters keeps the code-unit
 * order of whole strings (prefixes included), which is the contract's key order, and the
 * database orders string names by code unit too. The `~` prefix keeps every name from parsing as
 * an integer (the database sorts integer names first and the SDK turns integer-keyed objects
 * into arrays). A 512-character key stays a 513-byte name, under the 768-byte limit.
 *
 * Store format 3 introduced this encoding (entries under `k/`); format 2 kept entries under `e/`
 * with `.` -> `!`, `/` -> `|` (see layout.ts `childName`), which does not keep order. format.ts
 * moves them on open.
 */

const PREFIX = '~';
const FROM = '+,-./';
const TO = ')*+,-';
const ENCODE = new Map([...FROM].map((c, i) => [c, TO[i]!]));
const DECODE = new Map([...TO].map((c, i) => [c, FROM[i]!]));

/** The node name of the entry of `key` (order-keeping, reversible). */
export function entryName(key: string): string {
  let out = PREFIX;
  for (const c of key) out += ENCODE.get(c) ?? c;
  return out;
}

/** The key an entry node name stands for, or `undefined` when the name is not one of ours. */
export function keyOfEntryName(name: string): string | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  let out = '';
  for (const c of name.slice(PREFIX.length)) out += DECODE.get(c) ?? c;
  return out;
}

/**
 * The smallest name at or above every name of a key `>= text` (for `startAt`): the encoding of
 * `text` itself, since the encoding keeps order and prefixes.
 */
export function nameLowerBound(text: string): string {
  return entryName(text);
}
