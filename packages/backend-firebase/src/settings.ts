/**
 * The settings half of the firebase backend's module, with no runtime imports: core loads it (as
 * `@agent-state/backend-firebase/settings`) to check this backend's keys in a `project.yml` that
 * is configured for another backend, without loading this one (firebase-admin is large).
 */
import type { BackendSettings } from '@agent-state/core/backend';

/**
 * `backend: firebase`. Settings: `project_id` or `database_url` (one is required),
 * `service_account_key_path`, `emulator_host` (`host:port`).
 */
export const backendSettings: BackendSettings = {
  name: 'firebase',
  settings: (z, t) =>
    z
      .object({
        project_id: t.string().optional(),
        service_account_key_path: t.path().optional(),
        database_url: t.url().optional(),
        emulator_host: t.hostPort().optional(),
      })
      .superRefine((s, ctx) => {
        if (!s.project_id && !s.database_url) {
          ctx.addIssue({ code: 'custom', path: ['project_id'], message: 'the firebase backend needs project_id or database_url, got neither' });
        }
      }),
  paths: ['service_account_key_path'],
};

export default backendSettings;
