import { StateClient } from './client.js';
import { loadBackendModule } from './backend-module.js';
import { configuredBackend, loadConfig, type LoadConfigOptions, type ResolvedConfig } from './config/load.js';
import { BackendUnavailableError, InvalidValueError } from './errors.js';
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
  // The configured backend's module is imported first (resolved from the project directory, then
  // from core), so that loadConfig() checks its settings with the module's own schema.
  if (options.backend === undefined) {
    const { backend: name, baseDir, source } = configuredBackend(options);
    await loadBackendModule(name, baseDir, source);
  }
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

/**
 * Creates (does not initialise) the backend a resolved config names, through its module:
 * `memory`, a registered module, `@agent-state/backend-<name>`, or a package named in full.
 *
 * @throws InvalidConfigError when the package is not installed or exports no backend module, or
 *   when the module's own checks reject a setting.
 */
export async function loadBackend(config: ResolvedConfig): Promise<CommunicationBackend> {
  const module = await loadBackendModule(config.backend, config.baseDir, config.source);
  return module.create(config.settings as never, config);
}
