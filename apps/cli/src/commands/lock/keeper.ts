/**
 * Keeps a held lock alive: extends the lease every ttl/3 while a command runs (or while a shell
 * holds it), and reports the moment it is lost. A failed extend that is not a loss (the backend
 * briefly unreachable) is retried on the next tick; if the lease runs out meanwhile, the next
 * extend reports the loss.
 */
import type { Lock } from '@agent-state/core';
import { isStateError } from '@agent-state/core';

/** A running keeper. */
export interface LockKeeper {
  /** Set once the lease was lost (the error that said so). */
  readonly lost: Error | undefined;
  /** Stops extending; waits for an extend in flight. */
  stop(): Promise<void>;
}

/** Starts extending `lock` every `ttlMs / 3`; `onLost` is called once if the lease is lost. */
export function keepLock(lock: Lock, ttlMs: number, onLost: (error: Error) => void): LockKeeper {
  let lost: Error | undefined;
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight || lost) return;
    inFlight = lock
      .extend(ttlMs)
      .catch((error: unknown) => {
        if (isStateError(error, 'LOCK_LOST')) {
          lost = error;
          clearInterval(timer);
          onLost(error);
        }
      })
      .finally(() => {
        inFlight = undefined;
      });
  }, Math.max(1, Math.floor(ttlMs / 3)));
  return {
    get lost() {
      return lost;
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
