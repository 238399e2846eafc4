/**
 * `agent-state lock RESOURCE [--ttl] [--wait] -- COMMAND ...`: like flock(1), on the state
 * store's leases. Takes the lock, runs the command with the lease in its environment, extends the
 * lease while it runs, releases it after, and exits with the command's exit code. If the lease is
 * lost while the command runs, that is said on stderr at once and the exit code is LOCK_LOST
 * once the command ends (the command is not killed: like flock, the tool does not guess what is
 * safe to interrupt; fence your writes with `set --fence` so a lost lease refuses them).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Lock } from '@agent-state/core';
import { isStateError } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { SilentExit, UsageError, oneLine } from '../../errors.js';
import { ERROR_EXIT_CODES, EXIT_COMMAND_NOT_EXECUTABLE, EXIT_COMMAND_NOT_FOUND } from '../../exit-codes.js';
import { LOCK_ENV } from '../../fence.js';
import { keepLock } from './keeper.js';

/** Options of {@link lock}. */
export interface LockOptions {
  /** Lease length in ms (default: project.yml `lock_timeout`, else 30 s); extended every ttl/3. */
  ttlMs?: number;
  /** How long to wait for a busy lock before LOCK_TIMEOUT (default 10 s; 0 = one try). */
  waitMs?: number;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs `command` while holding `resource`. */
export async function lock(ctx: CommandContext, resource: string, command: string[], options: LockOptions = {}): Promise<void> {
  const [file, ...args] = command;
  if (file === undefined) throw new UsageError('lock: missing COMMAND (agent-state lock RESOURCE -- COMMAND ...)');
  const exitCode = await withState(ctx, async (state) => {
    const held = await state.lock(resource, {
      ...(options.ttlMs !== undefined && { ttlMs: options.ttlMs }),
      ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
    });
    const ttlMs = options.ttlMs ?? state.config.lockTtlMs;
    const keeper = keepLock(held, ttlMs, (error) =>
      ctx.stderr(`${oneLine('LOCK_LOST', `${error.message}; the command keeps running and lock will exit ${ERROR_EXIT_CODES.LOCK_LOST}`)}\n`),
    );
    let code: number;
    try {
      code = await run(file, args, { ...ctx.env, ...leaseEnv(held) }, ctx);
    } finally {
      await keeper.stop();
    }
    if (keeper.lost) {
      await held.release().catch(() => undefined);
      return ERROR_EXIT_CODES.LOCK_LOST;
    }
    try {
      await held.release();
    } catch (error) {
      if (!isStateError(error, 'LOCK_LOST')) throw error;
      ctx.stderr(`${oneLine('LOCK_LOST', error.message)}\n`);
      return ERROR_EXIT_CODES.LOCK_LOST;
    }
    return code;
  }, { resource });
  if (exitCode !== 0) throw new SilentExit(exitCode);
}

/** The environment a locked command gets. */
export function leaseEnv(held: Lock): Record<string, string> {
  return { [LOCK_ENV.token]: String(held.token), [LOCK_ENV.owner]: held.owner, [LOCK_ENV.resource]: held.resource };
}

/** Runs a command with inherited stdio; resolves to its exit code (128 + signal number when killed). */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, ctx: CommandContext): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit', env, cwd: ctx.cwd });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = FORWARDED_SIGNALS.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      const notFound = error.code === 'ENOENT';
      ctx.stderr(`${oneLine(notFound ? 'COMMAND_NOT_FOUND' : 'COMMAND_FAILED', `${file}: ${error.message}`)}\n`);
      done(notFound ? EXIT_COMMAND_NOT_FOUND : EXIT_COMMAND_NOT_EXECUTABLE);
    });
    child.on('exit', (code, signal) => {
      done(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
