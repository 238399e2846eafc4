/**
 * The settings half of the sqlite backend's module, with no runtime imports: core loads it (as
 * `@agent-state/backend-sqlite/settings`) to check this backend's keys in a `project.yml` that is
 * configured for another backend, without loading this one.
 */
import type { BackendSettings } from '@agent-state/core/backend';

/**
 * `backend: sqlite`. Settings: `database_path` (default `<project dir>/.agent-state/state.db`, or
 * `:memory:`), `busy_timeout_ms` (default 5000), `synchronous` (`normal` or `full`),
 * `connection_pool_size` (accepted, ignored).
 */
export const backendSettings: BackendSettings = {
  name: 'sqlite',
  settings: (z, t) =>
    z.object({
      database_path: t.path().optional(),
      connection_pool_size: t.positiveInt().optional(),
      busy_timeout_ms: t.count().optional(),
      synchronous: t.oneOf(['normal', 'full']).optional(),
    }),
  paths: ['database_path'],
};

export default backendSettings;
