/**
 * Turns node-postgres errors into agent-state errors, keeping the driver's error as `cause`.
 */
import { BackendUnavailableError, StateError } from '@agent-state/core';

/** The backend name errors carry. */
export const BACKEND_NAME = 'postgres';

/** The SQLSTATE of a server error, or the Node error code (`ECONNREFUSED` …). */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Serialization failure or deadlock: the transaction was rolled back and may simply run again. */
export function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  return code === '40001' || code === '40P01';
}

/**
 * The server refused a connection because every `max_connections` slot is taken (SQLSTATE
 * 53300, "sorry, too many clients already"). Still `BACKEND_UNAVAILABLE` (slots free up, so a
 * retry may succeed), with the setting that decides how many connections each client opens:
 * every client keeps up to `postgres_pool_size` pooled connections plus one for LISTEN, so N
 * processes need N × (pool + 1) slots.
 */
export class TooManyConnectionsError extends BackendUnavailableError {
  /** The setting to lower (`communication.settings.postgres_pool_size`, option `poolSize`). */
  readonly setting = 'communication.settings.postgres_pool_size';

  constructor(
    target: string,
    /** The pool size this client runs with, when known. */
    readonly poolSize: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(
      BACKEND_NAME,
      target,
      `the server has no free connection slot (53300: ${message}); each client opens up to communication.settings.postgres_pool_size ` +
        `(option poolSize${poolSize === undefined ? '' : `, now ${poolSize}`}) pooled connections plus one for LISTEN: with many processes, ` +
        'lower postgres_pool_size (e.g. 1 or 2) or raise the server\'s max_connections',
      options,
    );
  }
}

/**
 * agent-state's own errors pass through; everything else that stops the server from being used
 * (refused or dropped connections, timeouts, shutdowns, missing database, auth) is
 * `BackendUnavailableError` naming the target (never a password); a server out of connection
 * slots is {@link TooManyConnectionsError}, naming `postgres_pool_size`.
 */
export function toStateError(error: unknown, target: string, poolSize?: number): unknown {
  if (error instanceof StateError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === '53300' || /too many clients already/i.test(message)) return new TooManyConnectionsError(target, poolSize, message, { cause: error });
  if (code === '57014') {
    return new BackendUnavailableError(BACKEND_NAME, target, `a statement ran past statement_timeout_ms (${message})`, { cause: error });
  }
  if (code === '55P03') return new BackendUnavailableError(BACKEND_NAME, target, `a lock wait ran out (${message})`, { cause: error });
  if (code !== undefined && /^(08|53|57|28|3D|58)/.test(code)) {
    return new BackendUnavailableError(BACKEND_NAME, target, `${code}: ${message}`, { cause: error });
  }
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return new BackendUnavailableError(BACKEND_NAME, target, `${code}: ${message}`, { cause: error });
  if (/timeout|terminated|Connection ended|not queryable|Client was closed|Cannot use a pool/i.test(message)) {
    return new BackendUnavailableError(BACKEND_NAME, target, message, { cause: error });
  }
  return error;
}
