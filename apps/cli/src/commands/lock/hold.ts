/**
 * `agent-state lock RESOURCE --hold`: the lock holder behind the shell functions'
 * `communication_backend_lock`/`_unlock`. A lease belongs to a live process (backends free the
 * lease of a dead local owner), so the shell cannot just keep a token: this process takes the
 * lock and stays alive holding it, extending the lease every ttl/3, until
 *  - it gets SIGTERM/SIGINT/SIGHUP (what `_unlock` sends): it releases exactly its own lease
 *    (owner + token, compared by the backend), or
 *  - the `--watch-pid` process (the shell that locked) is gone: it releases, the way a flock
 *    dies with its file descriptor, so a crashed script never leaves a lock held for ever.
 *
 * Protocol on stdout, one line each: `ok PID TOKEN OWNER` once held, then `released` or `lost`
 * when it ends. With `--lease-file F` it also writes `PID TOKEN OWNER` to F (atomically) so an
 * unlock from another shell can find the holder, and removes F when done if F still names it.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { isStateError } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { SilentExit, oneLine } from '../../errors.js';
import { ERROR_EXIT_CODES } from '../../exit-codes.js';
import { processAlive } from '../../pid.js';
import { keepLock } from './keeper.js';

/** Options of {@link lockHold}. */
export interface LockHoldOptions {
  ttlMs?: number;
  waitMs?: number;
  /** Where to publish `PID TOKEN OWNER` for an unlock from another shell. */
  leaseFile?: string;
  /** Release and exit when this process is gone. */
  watchPid?: number;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const WATCH_INTERVAL_MS = 200;

/** Holds `resource` until told to stop; see the file comment for the protocol. */
export async function lockHold(ctx: CommandContext, resource: string, options: LockHoldOptions = {}): Promise<void> {
  // Signals that arrive while waiting for the lock must not kill us with a half-taken lease.
  let stopRequested = false;
  let wake: () => void = () => undefined;
  const onSignal = () => {
    stopRequested = true;
    wake();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const exitCode = await withState(ctx, async (state) => {
      const held = await state.lock(resource, {
        ...(options.ttlMs !== undefined && { ttlMs: options.ttlMs }),
        ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
      });
      const ttlMs = options.ttlMs ?? state.config.lockTtlMs;
      const record = `${process.pid} ${held.token} ${held.owner}`;
      if (options.leaseFile) publishLease(options.leaseFile, record);
      ctx.stdout(`ok ${record}\n`);

      const ended = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const keeper = keepLock(held, ttlMs, (error) => {
        ctx.stderr(`${oneLine('LOCK_LOST', error.message)}\n`);
        wake();
      });
      const watcher =
        options.watchPid !== undefined
          ? setInterval(() => {
              if (!processAlive(options.watchPid!)) wake();
            }, WATCH_INTERVAL_MS)
          : undefined;
      if (stopRequested) wake();
      await ended;
      clearInterval(watcher);
      await keeper.stop();

      let code = 0;
      if (keeper.lost) code = ERROR_EXIT_CODES.LOCK_LOST;
      else {
        try {
          await held.release();
        } catch (error) {
          if (!isStateError(error, 'LOCK_LOST')) throw error;
          ctx.stderr(`${oneLine('LOCK_LOST', error.message)}\n`);
          code = ERROR_EXIT_CODES.LOCK_LOST;
        }
      }
      if (options.leaseFile) unpublishLease(options.leaseFile, record);
      writeQuietly(ctx, code === 0 ? 'released\n' : 'lost\n');
      return code;
    });
    if (exitCode !== 0) throw new SilentExit(exitCode);
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

/** Write-then-rename, so an unlock never reads half a record. */
function publishLease(file: string, record: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${record}\n`);
  renameSync(tmp, file);
}

/** Removes the lease file only if it still names this holder (a later holder may own it now). */
function unpublishLease(file: string, record: string): void {
  try {
    if (readFileSync(file, 'utf8').trim() === record) unlinkSync(file);
  } catch {
    // Already gone: nothing to clean.
  }
}

/** The shell may have closed its end of the pipe; the exit code still tells the outcome. */
function writeQuietly(ctx: CommandContext, text: string): void {
  try {
    ctx.stdout(text);
  } catch {
    // EPIPE: nobody is listening any more.
  }
}
