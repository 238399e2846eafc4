import { StateClient } from './client.js';
import { loadConfig, type LoadConfigOptions, type ResolvedConfig } from './config/load.js';
import type { BackendName } from './config/schema.js';
import { BackendUnavailableError, InvalidConfigError, InvalidValueError } from './errors.js';
import { createMemoryBackend } from './memory/memory-backend.js';
import { MigrationFence, fencedBackend, type OnMigration } from './migration-fence.js';
import { StateMetrics, attachMetrics, meteredBackend } from './metrics/metrics.js';
import { withTimeout } from './timing.js';
import { assertPositive } from './validate.js';
import type { CommunicationBackend } from './types.js';

/** Options of {@link openState}: where the config comes from, or a ready backend. */
export interface OpenStateOptions extends LoadConfigOptions {
  /** A backend instance to use instead of the one the config names (e.g. one built on your own ioredis client). */
  backend?: CommunicationBackend;
  /**
   * While `agent-state-migrate` copies this store (or after it switched the project away from
   * it), writes fail with `MigratingError` (`'fail'`, the default) or wait for the migration to
   * end (`'wait'`, bounded by `migrationWaitMs`). Reads always work.
   */
  onMigration?: OnMigration;
  /** Bound of a write's wait for a running migration with `onMigration: 'wait'`; default 300 000 ms. */
  migrationWaitMs?: number;
  /** @internal The migration tool's own clients pass `false`: they write the markers. */
  migrationFence?: boolean;
  /** Measure every backend call (`metricsOf(state)`); default true. */
  metrics?: boolean;
}

const DEFAULT_MIGRATION_WAIT_MS = 300_000;

/** What a backend package exports so `openState()` can load it by name. */
export interface BackendModule {
  createBackend(config: ResolvedConfig): CommunicationBackend;
}

/** The npm package that implements each backend. */
export const BACKEND_PACKAGES: Record<Exclude<BackendName, 'memory'>, string> = {
  file: '@agent-state/backend-file',
  sqlite: '@agent-state/backend-sqlite',
  redis: '@agent-state/backend-redis',
  firebase: '@agent-state/backend-firebase',
  postgres: '@agent-state/backend-postgres',
};

/**
 * Opens a state client. Without options it finds `project.yml` upward from the working
 * directory; with none, it uses the file backend in `./.agent-state`.
 *
 * @example
 * await using state = await openState();
 * await state.write('tasks/42', { status: 'assigned', agent: 'agent-7' });
 */
export async function openState(options: OpenStateOptions = {}): Promise<StateClient> {
  if (options.onMigration !== undefined && options.onMigration !== 'fail' && options.onMigration !== 'wait') {
    throw new InvalidValueError('options.onMigration', options.onMigration, "expected 'fail' or 'wait'");
  }
  assertPositive(options.migrationWaitMs, 'options.migrationWaitMs');
  if (options.metrics !== undefined && typeof options.metrics !== 'boolean') throw new InvalidValueError('options.metrics', options.metrics, 'expected true or false');
  const config = loadConfig(options);
  const backend = options.backend ?? (await loadBackend(config));
  const init = backend.init({ namespace: config.namespace, connectTimeoutMs: config.connectTimeoutMs });
  try {
    // The backend bounds its own connect; this outer bound (plus a grace) guards against one that does not.
    await withTimeout(init, config.connectTimeoutMs + 1_000, () =>
      new BackendUnavailableError(backend.name, config.source, `not ready within ${config.connectTimeoutMs} ms`),
    );
  } catch (error) {
    init.catch(() => undefined);
    await backend.close().catch(() => undefined);
    throw error;
  }
  // Metrics go under the fence (one layer over the backend, not a Proxy): see metrics/metrics.ts.
  const metrics = options.metrics === false ? undefined : new StateMetrics(backend.name);
  const measured = metrics ? meteredBackend(backend, metrics) : backend;
  const client = (b: CommunicationBackend): StateClient => {
    const state = new StateClient(b, config);
    if (metrics) attachMetrics(state, metrics);
    return state;
  };
  if (options.migrationFence === false) return client(measured);
  const fence = new MigrationFence(measured, options.onMigration ?? 'fail', options.migrationWaitMs ?? DEFAULT_MIGRATION_WAIT_MS);
  try {
    await fence.start();
  } catch (error) {
    fence.stop();
    await backend.close().catch(() => undefined);
    throw error;
  }
  return client(fencedBackend(measured, fence));
}

/** Imports the backend package named by the config and creates the backend. */
export async function loadBackend(config: ResolvedConfig): Promise<CommunicationBackend> {
  if (config.backend === 'memory') return createMemoryBackend();
  const name = BACKEND_PACKAGES[config.backend];
  let mod: Partial<BackendModule>;
  try {
    mod = (await import(name)) as Partial<BackendModule>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(name)) {
      throw new InvalidConfigError(
        config.source,
        'communication.backend',
        `the ${config.backend} backend needs the package ${name}: run \`npm install ${name}\``,
        { cause: error },
      );
    }
    throw error;
  }
  if (typeof mod.createBackend !== 'function') {
    throw new InvalidConfigError(config.source, 'communication.backend', `${name} does not export createBackend()`);
  }
  return mod.createBackend(config);
}
