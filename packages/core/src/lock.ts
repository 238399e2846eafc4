import { LockLostError, isStateError } from './errors.js';
import type { CommunicationBackend, LockLease } from './types.js';
import { assertPositive } from './validate.js';

/**
 * A held lock: a lease with a fencing token. Pass it as `fence` to `write`/`delete` so they are
 * refused once the lease is lost. Disposable: `await using lock = await state.lock('x')`.
 */
export class Lock implements AsyncDisposable {
  #lease: LockLease;
  #released = false;
  #lost = false;

  /** @internal Created by `StateClient.lock`. */
  constructor(
    private readonly backend: CommunicationBackend,
    lease: LockLease,
    private readonly defaultTtlMs: number,
    private readonly guard: (operation: string) => void,
  ) {
    this.#lease = lease;
  }

  get resource(): string {
    return this.#lease.resource;
  }
  /** Fencing token: strictly increases per resource across every holder and process. */
  get token(): number {
    return this.#lease.token;
  }
  /** Unique owner id of this acquisition (`host:pid:client:n`). */
  get owner(): string {
    return this.#lease.owner;
  }
  /** Epoch ms when the lease ends unless extended. */
  get expiresAt(): number {
    return this.#lease.expiresAt;
  }
  /** The lease as backends see it. */
  get lease(): LockLease {
    return this.#lease;
  }
  /** True once `release()` succeeded. */
  get released(): boolean {
    return this.#released;
  }

  /** Extends the lease to now + `ttlMs` (default: the ttl it was taken with). `LockLostError` if lost. */
  async extend(ttlMs: number = this.defaultTtlMs): Promise<void> {
    this.guard('extend a lock');
    assertPositive(ttlMs, 'ttlMs');
    if (this.#released) throw new LockLostError(this.resource, this.token, 'it was released');
    this.#lease = await this.backend.extendLock(this.#lease, ttlMs);
  }

  /**
   * Frees the lock. `LockLostError` if it expired or was taken over (the new holder keeps it).
   * Releasing twice is harmless.
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.guard('release a lock');
    await this.backend.releaseLock(this.#lease);
    this.#released = true;
  }

  /**
   * For `await using`: releases the lock. A lock that was already lost (its lease ran out, or
   * another holder took it over) has nothing left to release, so disposal does not throw
   * `LockLostError`: it would otherwise hide the error of the block's body (the runtime wraps
   * a dispose error as `SuppressedError(disposeError, bodyError)`, so `catch (e)` no longer sees
   * the body's error as `e`). Check {@link Lock.lost} after the block, or call `release()`
   * yourself, to learn that the lease was lost. Any other error (the backend unreachable) is
   * thrown, and the runtime keeps the body's error as its `suppressed`.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.release();
    } catch (error) {
      // By code, not class: a backend built against another copy of core throws its own class.
      if (!isStateError(error, 'LOCK_LOST') && (error as { code?: unknown } | null)?.code !== 'LOCK_LOST') throw error;
      this.#lost = true;
    }
  }

  /** True once disposal found the lease already lost (expired or taken over). */
  get lost(): boolean {
    return this.#lost;
  }
}
