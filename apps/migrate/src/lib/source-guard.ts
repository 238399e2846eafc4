import { FENCE_REFRESH_MS, SWITCHED_MARKER_KEY, auditMigration, isStateError, type Lock, type StateClient } from '@agent-state/core';
import { MigrateError } from '../errors.js';
import { MIGRATION_LOCK, SOURCE_MARKER_KEY } from './entries.js';
import type { ScanStats } from './scan.js';

/** Default lease of the migration lock; it is extended every third of it while the copy runs. */
export const MIGRATION_LOCK_TTL_MS = 60_000;

/**
 * Refuses to migrate a store that is in use: agents whose heartbeats are recent (`healthy`) or
 * queue jobs under a live claim mean writers are running, and what they write during the copy
 * would be missed. `force` skips the check (the verify step then reports what changed).
 */
export async function assertSourceIdle(state: StateClient, stats: ScanStats, force: boolean): Promise<string[]> {
  const agents = await state.agents.list();
  const healthy = agents.filter((a) => a.status === 'healthy').map((a) => a.agentId);
  const problems: string[] = [];
  if (healthy.length > 0) problems.push(`${healthy.length} agent(s) with recent heartbeats (${preview(healthy)})`);
  if (stats.liveJobLeases > 0) {
    problems.push(`${stats.liveJobLeases} queue job(s) claimed by a running consumer (${preview(stats.liveJobLeaseKeys)})`);
  }
  if (problems.length > 0 && !force) {
    throw new MigrateError(
      'SOURCE_BUSY',
      `the source is in use: ${problems.join('; ')}. Stop the agents (or wait for their heartbeats to age), or pass --force`,
    );
  }
  return problems;
}

/**
 * The migration lock on the source, plus a marker entry clients can read before they write.
 * The lock keeps two migrations of one store apart; the marker (`@migration/active`, with the
 * lock's TTL, refreshed with it) tells agent-state clients a copy is running. Both vanish by
 * themselves when the migration is killed: the lease and the marker expire after `ttlMs`.
 * These are the only writes a migration makes to its source.
 */
export class SourceGuard {
  #timer: NodeJS.Timeout | undefined;
  #lost: unknown;
  #refreshing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly state: StateClient,
    private readonly lock: Lock,
    private readonly marker: Record<string, string | number>,
    private readonly ttlMs: number,
  ) {}

  /**
   * Takes the lock and writes the marker. A fresh run tries once (a held lock means another
   * migration runs); a resumed run waits up to one lease, for the lock of the run it resumes
   * (killed, so it cannot release it) to expire.
   */
  static async acquire(state: StateClient, marker: Record<string, string | number>, ttlMs = MIGRATION_LOCK_TTL_MS, resume = false): Promise<SourceGuard> {
    let lock: Lock;
    try {
      lock = await state.lock(MIGRATION_LOCK, { ttlMs, waitMs: resume ? ttlMs + 1_000 : 0 });
    } catch (error) {
      if (isStateError(error, 'LOCK_TIMEOUT')) {
        throw new MigrateError('SOURCE_BUSY', `another migration holds the lock ${JSON.stringify(MIGRATION_LOCK)} on the source; wait for it to finish (a killed one frees it within ${Math.round(ttlMs / 1000)} s; --resume waits for that)`, { cause: error });
      }
      throw error;
    }
    const guard = new SourceGuard(state, lock, marker, ttlMs);
    await guard.#writeMarker();
    // The source's audit log (this client is opened without the fence, so the append goes
    // through); the record is copied to the target with the rest of the source's logs.
    await auditMigration(state, 'start', { runId: String(marker['runId'] ?? lock.token), from: String(marker['from'] ?? 'source'), to: String(marker['to'] ?? 'target'), owner: lock.owner, after: marker });
    // Clients see the marker within FENCE_REFRESH_MS (their cached view of it, re-read by a write
    // that finds it older); a write already past its check lands within the store's connect
    // timeout. Once both have passed, nothing more is written behind the copy.
    await new Promise((r) => setTimeout(r, FENCE_REFRESH_MS + state.config.connectTimeoutMs));
    guard.#timer = setInterval(() => {
      guard.#refreshing = guard.#refreshing.then(() => guard.#refresh());
    }, Math.max(1_000, Math.floor(ttlMs / 3)));
    guard.#timer.unref();
    return guard;
  }

  /** Throws if the lock was lost (the copy must stop: another migration may have started). */
  check(): void {
    if (this.#lost !== undefined) {
      throw new MigrateError('LOCK_LOST', `lost the migration lock on the source: ${(this.#lost as Error).message ?? String(this.#lost)}; rerun with --resume`, { cause: this.#lost });
    }
  }

  /**
   * After `--switch`: marks the source as switched away from, for good, so a client still
   * configured for it gets `MigratingError` on every write instead of writing where nobody reads.
   */
  async markSwitched(to: string, runId: string): Promise<void> {
    this.check();
    await this.state.write(SWITCHED_MARKER_KEY, { to, runId, switchedAt: Date.now() }, { fence: this.lock });
    await auditMigration(this.state, 'switch', { runId, from: String(this.marker['from'] ?? 'source'), to, owner: this.lock.owner });
  }

  /** Removes the marker and frees the lock. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
    if (this.state.closed) return;
    await this.state.delete(SOURCE_MARKER_KEY, { fence: this.lock }).catch(() => undefined);
    await this.lock.release().catch(() => undefined);
  }

  async #writeMarker(): Promise<void> {
    await this.state.write(SOURCE_MARKER_KEY, { ...this.marker, lockToken: this.lock.token, refreshedAt: Date.now() }, { ttlMs: this.ttlMs, fence: this.lock });
  }

  async #refresh(): Promise<void> {
    if (this.#lost !== undefined || this.state.closed) return;
    try {
      await this.lock.extend(this.ttlMs);
      await this.#writeMarker();
    } catch (error) {
      this.#lost = error;
    }
  }
}

function preview(items: string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')}, …`;
}
