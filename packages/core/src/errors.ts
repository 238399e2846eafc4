/**
 * Every error agent-state throws extends {@link StateError} and carries a stable {@link ErrorCode}.
 * A driver's own error is kept as `cause`, never swallowed.
 */

/** Stable machine-readable error codes; scripts and the CLI branch on these. */
export type ErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_VALUE'
  | 'INVALID_CONFIG'
  | 'CONFLICT'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'BACKEND_UNAVAILABLE'
  | 'NOT_SUPPORTED'
  | 'CORRUPT_DATA'
  | 'STATE_CLOSED'
  | 'TIMEOUT'
  | 'UNAUTHORIZED'
  | 'MIGRATING'
  | 'TRANSACTION_CLOSED';

/** All error codes, in a stable order (the CLI maps them to exit codes by position). */
export const ERROR_CODES: readonly ErrorCode[] = [
  'INVALID_KEY',
  'INVALID_VALUE',
  'INVALID_CONFIG',
  'CONFLICT',
  'LOCK_TIMEOUT',
  'LOCK_LOST',
  'BACKEND_UNAVAILABLE',
  'NOT_SUPPORTED',
  'CORRUPT_DATA',
  'STATE_CLOSED',
  'TIMEOUT',
  'UNAUTHORIZED',
  'MIGRATING',
  'TRANSACTION_CLOSED',
];

interface CauseOption {
  cause?: unknown;
}

/** Base class of every agent-state error. */
export class StateError extends Error {
  /** Stable code, one per subclass. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: CauseOption) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** A key does not follow the key grammar. Thrown before any I/O. */
export class InvalidKeyError extends StateError {
  constructor(
    /** The field that held the key (`key`, `resource`, `queue`, `prefix` …). */
    readonly field: string,
    /** The offending value. */
    readonly value: unknown,
    reason: string,
  ) {
    super('INVALID_KEY', `${field}: ${reason}, got ${describeValue(value)}`);
  }
}

/** A value or option is not acceptable. Thrown before any I/O. */
export class InvalidValueError extends StateError {
  constructor(
    /** The offending field (`value`, `value.items[3]`, `options.ttlMs` …). */
    readonly field: string,
    /** The offending value, when it can be shown. */
    readonly value: unknown,
    reason: string,
  ) {
    super('INVALID_VALUE', `${field}: ${reason}, got ${describeValue(value)}`);
  }
}

/** The configuration (project.yml or an object) is wrong. */
export class InvalidConfigError extends StateError {
  constructor(
    /** Where the config came from: a file path, or `config` for an object. */
    readonly source: string,
    /** Dotted path of the setting, e.g. `communication.settings.redis_port`. */
    readonly path: string,
    /** What was expected, in words, with what was found. */
    readonly problem: string,
    options?: CauseOption,
  ) {
    super('INVALID_CONFIG', path ? `${source}: ${path}: ${problem}` : `${source}: ${problem}`, options);
  }
}

/** A compare-and-set or a transaction found another version than it expected. */
export class ConflictError extends StateError {
  constructor(
    readonly key: string,
    /** The version the caller expected; `'absent'` when the key was expected not to exist. */
    readonly expected: number | 'absent',
    /** The version found; `'absent'` when the key did not exist. */
    readonly actual: number | 'absent',
    detail?: string,
  ) {
    super(
      'CONFLICT',
      `conflict on ${JSON.stringify(key)}: expected version ${String(expected)}, found ${String(actual)}` +
        (detail ? ` (${detail})` : ''),
    );
  }
}

/** A lock could not be acquired within `waitMs`. */
export class LockTimeoutError extends StateError {
  constructor(
    readonly resource: string,
    readonly waitMs: number,
  ) {
    super('LOCK_TIMEOUT', `lock ${JSON.stringify(resource)} not acquired within ${waitMs} ms`);
  }
}

/** A lock expired or was taken over; the operation that needed it was not performed. */
export class LockLostError extends StateError {
  constructor(
    readonly resource: string,
    readonly token: number,
    detail = 'it expired or was taken over',
  ) {
    super('LOCK_LOST', `lock ${JSON.stringify(resource)} (token ${token}) is no longer held: ${detail}`);
  }
}

/** The backend cannot be reached or opened within the connect timeout. */
export class BackendUnavailableError extends StateError {
  constructor(
    readonly backend: string,
    /** Where it tried: a URL, a host:port, a path. */
    readonly target: string,
    detail: string,
    options?: CauseOption,
  ) {
    super('BACKEND_UNAVAILABLE', `${backend} backend unavailable at ${target}: ${detail}`, options);
  }
}

/** The backend does not offer this feature. */
export class NotSupportedError extends StateError {
  constructor(
    readonly backend: string,
    readonly feature: string,
  ) {
    super('NOT_SUPPORTED', `${backend} backend does not support ${feature}`);
  }
}

/** Stored data is damaged; it is never read as absent nor overwritten silently. */
export class CorruptDataError extends StateError {
  constructor(
    /** Where the damaged data is: a file path, a table row, a Redis key. */
    readonly location: string,
    detail: string,
    options?: CauseOption,
  ) {
    super('CORRUPT_DATA', `corrupt data at ${location}: ${detail}`, options);
  }
}

/** The client was closed. */
export class StateClosedError extends StateError {
  constructor(operation: string) {
    super('STATE_CLOSED', `cannot ${operation}: the state client is closed`);
  }
}

/** A wait ran out (`waitFor`, a bounded retry loop such as a contended Firebase increment). */
export class TimeoutError extends StateError {
  constructor(
    /** What was waited for. */
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super('TIMEOUT', `${operation} did not finish within ${timeoutMs} ms`);
  }
}

/** No token, or a wrong one (server). */
export class UnauthorizedError extends StateError {
  constructor(detail = 'missing or wrong bearer token') {
    super('UNAUTHORIZED', detail);
  }
}

/** A write to a store that a migration is copying from, or that was switched away from. */
export class MigratingError extends StateError {
  constructor(
    /** Id of the migration (as in `@migration/active`). */
    readonly migration: string,
    /** Where the data is going (backend name and target). */
    readonly target: string,
    detail = 'this store is being migrated',
  ) {
    super('MIGRATING', `${detail}: migration ${migration} to ${target}`);
  }
}

/** A call on a transaction that was already committed or rolled back. */
export class TransactionClosedError extends StateError {
  constructor(operation: string, state: 'committed' | 'rolled back') {
    super('TRANSACTION_CLOSED', `cannot ${operation}: the transaction was already ${state}`);
  }
}

/** True when `error` is a {@link StateError}, optionally of the given code. */
export function isStateError(error: unknown, code?: ErrorCode): error is StateError {
  return error instanceof StateError && (code === undefined || error.code === code);
}

/** A short, safe rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return `a BigInt (${value}n)`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const ctor = Object.getPrototypeOf(value)?.constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
}
