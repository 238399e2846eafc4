/**
 * The settings half of the file backend's module, with no runtime imports: core loads it (as
 * `@agent-state/backend-file/settings`) to check this backend's keys in a `project.yml` that is
 * configured for another backend, without loading this one.
 */
import type { BackendSettings } from '@agent-state/core/backend';

/**
 * `backend: file`. Settings: `directory` (default `<project dir>/.agent-state`),
 * `transaction_dir`, `backup_count` (default 5), `durability` (`fsync` or `none`).
 */
export const backendSettings: BackendSettings = {
  name: 'file',
  settings: (z, t) =>
    z.object({
      directory: t.path().optional(),
      transaction_dir: t.path().optional(),
      backup_count: t.count().optional(),
      durability: t.oneOf(['fsync', 'none']).optional(),
    }),
  paths: ['directory', 'transaction_dir'],
};

export default backendSettings;
