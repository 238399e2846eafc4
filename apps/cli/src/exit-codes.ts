/**
 * Exit codes a script can branch on. Every contract error code gets its own code, 10 + its
 * position in core's `ERROR_CODES` (a stable order), so adding a code to core appends a number
 * and never renumbers the others. Written out here (not computed) so that reading them costs no
 * import of core at start-up and the README table can be checked against them.
 */
import type { ErrorCode } from '@agent-state/core';

/** The command succeeded. */
export const EXIT_OK = 0;
/** `get`, `tx read`, `queue pop`, `queue ack`: nothing there (nothing printed, nothing on stderr). */
export const EXIT_NOT_FOUND = 1;
/** Wrong command line: unknown command or option, missing argument, bad number. */
export const EXIT_USAGE = 2;
/** A bug or an error that is no `StateError` (the message says what). */
export const EXIT_INTERNAL = 70;
/** `lock -- COMMAND`: the command could not be started (not found). */
export const EXIT_COMMAND_NOT_FOUND = 127;
/** `lock -- COMMAND`: the command exists but could not be executed. */
export const EXIT_COMMAND_NOT_EXECUTABLE = 126;

/** One exit code per contract error code: 10 + index in core's `ERROR_CODES`. */
export const ERROR_EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  INVALID_KEY: 10,
  INVALID_VALUE: 11,
  INVALID_CONFIG: 12,
  CONFLICT: 13,
  LOCK_TIMEOUT: 14,
  LOCK_LOST: 15,
  BACKEND_UNAVAILABLE: 16,
  NOT_SUPPORTED: 17,
  CORRUPT_DATA: 18,
  STATE_CLOSED: 19,
  TIMEOUT: 20,
  UNAUTHORIZED: 21,
  MIGRATING: 22,
  TRANSACTION_CLOSED: 23,
};
