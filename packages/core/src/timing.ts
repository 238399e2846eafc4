import { setTimeout as sleepFor } from 'node:timers/promises';

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return sleepFor(Math.max(0, ms));
}

/**
 * Decorrelated-jitter backoff ("Exponential Backoff and Jitter", AWS): each delay is random in
 * [base, 3 × previous], capped. Spreads retrying processes apart so they stop colliding.
 */
export class Backoff {
  private previous: number;

  constructor(
    private readonly baseMs = 1,
    private readonly capMs = 50,
  ) {
    this.previous = baseMs;
  }

  /** The next delay in ms. */
  next(): number {
    const upper = Math.min(this.capMs, this.previous * 3);
    this.previous = this.baseMs + Math.random() * Math.max(0, upper - this.baseMs);
    return this.previous;
  }
}

/** An entry's expiry check: expired entries read as absent everywhere. */
export function isExpired(expiresAt: number | undefined | null, now = Date.now()): boolean {
  return expiresAt !== undefined && expiresAt !== null && expiresAt <= now;
}

/**
 * Races `promise` against a timer; on timeout rejects with `onTimeout()`. The timer never keeps
 * the process alive and is cleared as soon as the promise settles.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
