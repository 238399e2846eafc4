import { InvalidKeyError, InvalidValueError } from './errors.js';
import type { ExpectedVersion, JsonValue } from './types.js';

/** Longest key, in characters. */
export const MAX_KEY_LENGTH = 512;
/** Longest key segment, in characters. */
export const MAX_SEGMENT_LENGTH = 128;
/** Default bound on a serialized value: 1 MiB. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

const SEGMENT = /^[A-Za-z0-9._\-:@+=,]+$/;

/**
 * The whole grammar but the "." / ".." rule and the 512-character bound, in one regex: every
 * segment 1-128 allowed characters, joined by single "/". Deterministic (a segment's class has
 * no "/"), so a valid key is one linear scan instead of a split and a test per segment.
 */
const VALID_KEY = /^[A-Za-z0-9._\-:@+=,]{1,128}(?:\/[A-Za-z0-9._\-:@+=,]{1,128})*$/;
/** A "." or ".." segment. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** Why `key` breaks the key grammar, or `null` when it is valid. */
export function keyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return 'expected a string key';
  // Fast path: a valid key (the hot path of every call) costs one or two regex scans.
  if (key.length <= MAX_KEY_LENGTH && VALID_KEY.test(key) && (!key.includes('.') || !DOT_SEGMENT.test(key))) return null;
  return slowKeyProblem(key);
}

/** The reason a key that failed the fast path is invalid (the checks in the grammar's order). */
function slowKeyProblem(key: string): string | null {
  if (key.length === 0) return 'expected a non-empty key';
  if (key.length > MAX_KEY_LENGTH) return `expected at most ${MAX_KEY_LENGTH} characters (has ${key.length})`;
  if (key.startsWith('/') || key.endsWith('/')) return 'a key may not start or end with "/"';
  for (const segment of key.split('/')) {
    if (segment.length === 0) return 'a key may not contain "//"';
    if (segment.length > MAX_SEGMENT_LENGTH) return `a segment may have at most ${MAX_SEGMENT_LENGTH} characters`;
    if (segment === '.' || segment === '..') return 'a segment may not be "." or ".."';
    if (!SEGMENT.test(segment)) return 'a segment may only hold A-Z a-z 0-9 . _ - : @ + = ,';
  }
  return null;
}

/** Throws `InvalidKeyError` naming `field` unless `key` follows the key grammar. */
export function assertKey(key: unknown, field = 'key'): asserts key is string {
  const problem = keyProblem(key);
  if (problem) throw new InvalidKeyError(field, key, problem);
}

/**
 * Checks a list prefix: any beginning of a valid key is allowed (it may end with "/" or in the
 * middle of a segment), so `tasks/`, `tasks/12` and `tasks/1` all work.
 */
export function assertPrefix(prefix: unknown, field = 'prefix'): asserts prefix is string {
  if (typeof prefix !== 'string') throw new InvalidKeyError(field, prefix, 'expected a string prefix');
  if (prefix === '' || keyProblem(prefix) === null || keyProblem(`${prefix}x`) === null) return;
  throw new InvalidKeyError(field, prefix, keyProblem(`${prefix}x`) ?? 'expected the beginning of a valid key');
}

/** Checks that a name used as one key segment (namespace, queue, channel, agent id) is valid. */
export function assertSegment(name: unknown, field: string): asserts name is string {
  const problem = keyProblem(name);
  if (problem) throw new InvalidKeyError(field, name, problem);
  if ((name as string).includes('/')) throw new InvalidKeyError(field, name, 'expected a single segment without "/"');
}

/**
 * Serializes a value, rejecting anything JSON cannot round-trip (undefined, functions, symbols,
 * BigInt, NaN, Infinity, cycles, class instances, sparse arrays) and values larger than
 * `maxBytes` once serialized. Returns the JSON text, so backends need not stringify twice.
 */
export function serializeValue(value: unknown, maxBytes: number, field = 'value'): string {
  // The walk that names the offending field builds a path string per property and keeps a Set
  // for cycles; the common, valid value only needs a yes: a cheap walk first, the naming walk
  // only when it says no (or the value nests deeper than it looks).
  if (!isPlainJson(value, 0)) checkJson(value, field, new Set());
  const text = JSON.stringify(value);
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short texts need no byte count.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      throw new InvalidValueError(field, `${bytes} bytes`, `expected at most ${maxBytes} bytes once serialized`);
    }
  }
  return text;
}

/** Throws unless `value` is JSON that round-trips; `field` names where it was found. */
export function assertJsonValue(value: unknown, field = 'value'): asserts value is JsonValue {
  checkJson(value, field, new Set());
}

/** Nesting past which {@link isPlainJson} gives up (and the cycle-aware walk decides). */
const FAST_DEPTH = 64;

/**
 * True when `value` is JSON that round-trips (the rules of {@link checkJson}); false when it is
 * not, or nests deeper than {@link FAST_DEPTH} (a cycle would), so the caller runs the walk that
 * finds and names the problem. No allocation per property.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  // for-in (no key array); it would also visit enumerable keys added to Object.prototype, whose
  // values are checked too: a harmless extra look (JSON.stringify skips them).
  for (const k in value) {
    if (!isPlainJson((value as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return Object.getOwnPropertySymbols(value).length === 0;
}

function checkJson(value: unknown, field: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidValueError(field, value, 'expected a finite number');
      return;
    case 'object':
      break;
    default:
      throw new InvalidValueError(field, value, 'expected a JSON value');
  }
  if (value === null) return;
  if (seen.has(value)) throw new InvalidValueError(field, value, 'expected a value without cycles');
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new InvalidValueError(`${field}[${i}]`, undefined, 'expected no holes in arrays');
      checkJson(value[i], `${field}[${i}]`, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidValueError(field, value, 'expected a plain object (JSON cannot round-trip class instances)');
    }
    for (const k of Object.keys(value)) {
      checkJson((value as Record<string, unknown>)[k], `${field}.${k}`, seen);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new InvalidValueError(field, value, 'expected no symbol keys');
    }
  }
  seen.delete(value);
}

/** Checks an optional duration/count option: a finite number > 0 (or >= 0 with `allowZero`). */
export function assertPositive(value: unknown, field: string, { allowZero = false, integer = false } = {}): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (allowZero ? value >= 0 : value > 0) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const want = `${integer ? 'a whole number' : 'a number'} ${allowZero ? '>= 0' : '> 0'}`;
    throw new InvalidValueError(field, value, `expected ${want}`);
  }
}

/** Checks an `ifVersion` option: a positive whole number or `'absent'`. */
export function assertExpectedVersion(value: unknown, field = 'options.ifVersion'): asserts value is ExpectedVersion | undefined {
  if (value === undefined || value === 'absent') return;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return;
  throw new InvalidValueError(field, value, "expected a positive whole number or 'absent'");
}

/** Rejects option keys that are not known, so a typo never silently does nothing. */
export function assertOptions(options: unknown, field: string, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidValueError(field, options, 'expected an options object');
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) {
      throw new InvalidValueError(`${field}.${k}`, (options as Record<string, unknown>)[k], `unknown option (known: ${known.join(', ')})`);
    }
  }
}

/** `undefined` or a boolean; otherwise `InvalidValueError` naming the field. */
export function assertBoolean(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidValueError(field, value, 'expected true or false');
}
