import { isStateError } from '@agent-state/core';

/**
 * Why a migration stopped. Each reason has its own exit code so scripts can branch on it
 * (`agent-state-migrate … || case $? in 5) … esac`).
 */
export type MigrateErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'UNAVAILABLE'
  | 'TARGET_NOT_EMPTY'
  | 'SOURCE_BUSY'
  | 'VERIFY_FAILED'
  | 'BAD_INPUT'
  | 'CHECKPOINT'
  | 'DATA'
  | 'LOCK_LOST'
  | 'INTERNAL';

/** Exit code of each outcome; 0 = success, 1 = an unexpected error (a bug or a driver crash). */
export const EXIT_CODES: Record<MigrateErrorCode | 'OK', number> = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  CONFIG: 3,
  UNAVAILABLE: 4,
  TARGET_NOT_EMPTY: 5,
  SOURCE_BUSY: 6,
  VERIFY_FAILED: 7,
  BAD_INPUT: 8,
  CHECKPOINT: 9,
  DATA: 10,
  LOCK_LOST: 11,
};

/** An error the migration reports as one clear line, with the exit code of its reason. */
export class MigrateError extends Error {
  constructor(
    readonly code: MigrateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MigrateError';
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** Maps any thrown value to the migrate error a person reads (agent-state errors keep their message). */
export function toMigrateError(error: unknown): MigrateError {
  if (error instanceof MigrateError) return error;
  if (isStateError(error)) {
    const code: MigrateErrorCode | undefined = (
      {
        INVALID_CONFIG: 'CONFIG',
        BACKEND_UNAVAILABLE: 'UNAVAILABLE',
        LOCK_TIMEOUT: 'SOURCE_BUSY',
        LOCK_LOST: 'LOCK_LOST',
        CORRUPT_DATA: 'DATA',
        INVALID_VALUE: 'DATA',
        INVALID_KEY: 'DATA',
      } as const
    )[error.code as string];
    if (code) return new MigrateError(code, error.message, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new MigrateError('INTERNAL', message, { cause: error });
}
