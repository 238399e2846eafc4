/**
 * Errors that belong to the command line rather than to the state layer, and the one place
 * that turns any error into an exit code and a single stderr line.
 */
import { ERROR_EXIT_CODES, EXIT_INTERNAL, EXIT_NOT_FOUND, EXIT_USAGE } from './exit-codes.js';

/** The command line is wrong (exit 2). */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/**
 * Nothing there: `get` of an absent key, `queue pop` of an empty queue. Exit 1 with nothing on
 * stdout and nothing on stderr, so `if v=$(agent-state get k); then` reads like `grep -q`.
 */
export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND';
}

/**
 * A command that already reported its outcome (e.g. `lock` printed that the lease was lost while
 * the command ran) and only needs to exit with `exitCode`, printing nothing more.
 */
export class SilentExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** What the top-level handler does with an error: the exit code and the stderr line (if any). */
export interface ErrorReport {
  exitCode: number;
  code: string;
  /** One line, `agent-state: CODE: message`; undefined when nothing is printed. */
  line: string | undefined;
}

/** Maps any thrown value to an exit code and one stderr line. */
export function reportError(error: unknown): ErrorReport {
  if (error instanceof SilentExit) return { exitCode: error.exitCode, code: 'EXIT', line: undefined };
  if (error instanceof NotFoundError) return { exitCode: EXIT_NOT_FOUND, code: 'NOT_FOUND', line: undefined };
  if (error instanceof UsageError) return { exitCode: EXIT_USAGE, code: 'USAGE', line: oneLine('USAGE', error.message) };
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in ERROR_EXIT_CODES && error instanceof Error) {
    const exitCode = ERROR_EXIT_CODES[code as keyof typeof ERROR_EXIT_CODES];
    return { exitCode, code, line: oneLine(code, error.message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: EXIT_INTERNAL, code: 'INTERNAL', line: oneLine('INTERNAL', message) };
}

/** `agent-state: CODE: message` on a single line (newlines in driver messages folded). */
export function oneLine(code: string, message: string): string {
  return `agent-state: ${code}: ${message.replace(/\s*\n\s*/g, ' ').trim()}`;
}
