/**
 * The one top-level error handler: runs a command line's action and exits with the code its
 * outcome maps to (one stderr line for an error, nothing for NOT_FOUND). Commander is not
 * imported here, so the fast path (fast-path.ts) can use it without loading commander.
 */
import { reportError } from './errors.js';
import { EXIT_USAGE } from './exit-codes.js';

/** Runs `action` and exits the process with its exit code. */
export async function run(action: () => Promise<unknown>): Promise<never> {
  // A reader that went away (`| head -1`) ends the output quietly, like SIGPIPE would.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let exitCode = 0;
  try {
    await action();
  } catch (error) {
    const commander = error as { code?: unknown; exitCode?: unknown };
    if (typeof commander.code === 'string' && commander.code.startsWith('commander.')) {
      // Help and version print and succeed; anything else was already reported with its usage.
      exitCode = commander.code === 'commander.helpDisplayed' || commander.code === 'commander.version' || commander.exitCode === 0 ? 0 : EXIT_USAGE;
    } else {
      const report = reportError(error);
      if (report.line) process.stderr.write(`${report.line}\n`);
      exitCode = report.exitCode;
    }
  }
  process.exit(exitCode);
}
