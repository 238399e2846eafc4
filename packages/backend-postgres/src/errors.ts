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
 * agent-state's own errors pass through; everything else that stops the server from being used
 * (refused or dropped connections, timeouts, shutdowns, missing database, auth) is
 * `BackendUnavailableError` naming the target (never a password).
 */
export function toStateError(error: unknown, target: string): unknown {
  if (error instanceof StateError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
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
