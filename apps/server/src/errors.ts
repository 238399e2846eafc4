/**
 * Errors on the wire: `{ "error": { "code", "message" } }` with one status per code (server.md).
 * `NOT_FOUND`, `FORBIDDEN` and `TOO_LARGE` are HTTP-only codes; every other code is the contract's.
 */

/** Codes the HTTP layer adds to the contract's. */
export type HttpOnlyCode = 'NOT_FOUND' | 'FORBIDDEN' | 'TOO_LARGE';

/** Status of every code. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_KEY: 400,
  INVALID_VALUE: 400,
  INVALID_CONFIG: 400,
  TRANSACTION_CLOSED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TIMEOUT: 408,
  LOCK_TIMEOUT: 408,
  CONFLICT: 409,
  LOCK_LOST: 409,
  TOO_LARGE: 413,
  CORRUPT_DATA: 422,
  MIGRATING: 423,
  NOT_SUPPORTED: 501,
  BACKEND_UNAVAILABLE: 503,
  STATE_CLOSED: 503,
};

/** An error the HTTP layer raises itself (absent key, foreign Host, body too large). */
export class HttpError extends Error {
  constructor(
    readonly code: HttpOnlyCode | 'INVALID_VALUE' | 'UNAUTHORIZED' | 'STATE_CLOSED',
    message: string,
  ) {
    super(message);
  }
}

/** What to send for any thrown error: a status and the JSON body. */
export function toWire(error: unknown): { status: number; body: { error: { code: string; message: string } } } {
  let code = 'INTERNAL';
  let message = error instanceof Error ? error.message : String(error);
  let status = 500;
  if (error instanceof HttpError || hasCode(error)) {
    code = (error as { code: string }).code;
    status = STATUS_BY_CODE[code] ?? 500;
  } else if ((error as Error | null)?.name === 'AbortError') {
    code = 'STATE_CLOSED';
    status = 503;
    message = 'the request was aborted: the server is stopping or the client went away';
  } else {
    const e = error as { code?: string; statusCode?: number; validation?: unknown } | null;
    // Fastify's own errors: body limits, malformed JSON, schema validation, unsupported media type.
    if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413) {
      code = 'TOO_LARGE';
      status = 413;
      message = 'request body too large';
    } else if (e?.validation) {
      code = 'INVALID_VALUE';
      status = 400;
    } else if (e?.statusCode === 404) {
      code = 'NOT_FOUND';
      status = 404;
    } else if (e?.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
      // Malformed JSON, empty JSON body, wrong content type.
      code = 'INVALID_VALUE';
      status = e.statusCode === 415 ? 415 : 400;
    }
  }
  return { status, body: { error: { code, message } } };
}

/**
 * True when `error` carries one of the known codes (optionally this one). By code, not by
 * class: a bundled CLI and a backend package may each hold their own copy of core's classes.
 */
export function hasCode(error: unknown, code?: string): error is Error & { code: string } {
  if (!(error instanceof Error)) return false;
  const c = (error as { code?: unknown }).code;
  return typeof c === 'string' && c in STATUS_BY_CODE && (code === undefined || c === code);
}
