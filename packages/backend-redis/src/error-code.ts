/**
 * The negative codes the Lua scripts in `./lua` return (the first element of their reply), one
 * enum for all of them. Each script's header says which ones it returns.
 */
export enum ScriptError {
  /** A version check failed; the reply carries the actual version (0 = absent). */
  Conflict = -1,
  /** A lease is no longer live: it expired or was released. */
  LeaseExpired = -2,
  /** A lease belongs to another holder now. */
  LeaseTaken = -3,
  /** A stored entry is damaged (missing or unreadable fields). */
  Corrupt = -4,
  /** `increment` found a value that is not a number; the reply carries it. */
  NotANumber = -5,
  /** `increment` would overflow to Infinity. */
  NotFinite = -6,
  /** The store's format marker names a newer format than this release writes. */
  NewerFormat = -8,
}
