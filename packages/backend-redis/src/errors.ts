/**
 * Turns what ioredis and the scripts report into agent-state errors, always keeping the driver's
 * error as `cause`.
 */
import {
  BackendUnavailableError,
  CorruptDataError,
  LockLostError,
  StateError,
  type LockLease,
} from '@agent-state/core';
import { ScriptError } from './error-code.js';

/** The backend name errors carry. */
export const BACKEND_NAME = 'redis';

/** A server reply error (`-ERR …`), as opposed to a connection problem. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Maps a driver error: a key of the wrong type is damaged data at `location`; everything else
 * (refused or lost connection, timeout, auth, LOADING, CLUSTERDOWN …) means the backend cannot
 * serve us right now.
 */
export function driverError(error: unknown, target: string, location: string): StateError {
  if (error instanceof StateError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isReplyError(error) && message.includes('WRONGTYPE')) {
    return new CorruptDataError(location, 'the Redis key holds a value of another type than agent-state writes', {
      cause: error,
    });
  }
  return new BackendUnavailableError(BACKEND_NAME, target, message, { cause: error });
}

/** The `LockLostError` for a lease script's negative reply. */
export function leaseLost(lease: LockLease, code: number): LockLostError {
  return new LockLostError(
    lease.resource,
    lease.token,
    code === ScriptError.LeaseTaken ? 'another holder has taken it' : 'its lease expired or it was released',
  );
}

/** The `CorruptDataError` for an entry a script or a read found damaged. */
export function corruptEntry(
  location: string,
  detail = 'the stored entry has no readable <version>:<updatedAt>:<expiresAt>: header',
  cause?: unknown,
): CorruptDataError {
  return new CorruptDataError(location, detail, cause === undefined ? undefined : { cause });
}
