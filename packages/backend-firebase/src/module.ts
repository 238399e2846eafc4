/**
 * Entry points: {@link createFirebaseBackend} for code, {@link backendModule} for `project.yml`
 * (`backend: firebase`), which maps the snake_case settings to the typed options, and
 * {@link createBackend}, the older shape of the latter.
 */
import type { ResolvedConfig } from '@agent-state/core';
import { defineBackend } from '@agent-state/core/backend';
import { FirebaseBackend } from './firebase-backend.js';
import { backendSettings } from './settings.js';
import type { FirebaseBackendOptions, FirebaseSettings } from './options.js';

/**
 * Creates a Firebase Realtime Database backend. Options are checked and the service-account key
 * is loaded here (`InvalidConfigError` on a problem); the connection opens in `init`.
 */
export function createFirebaseBackend(options: FirebaseBackendOptions = {}): FirebaseBackend {
  return new FirebaseBackend(options);
}

/**
 * `backend: firebase`. Settings: `project_id` or `database_url` (one is required),
 * `service_account_key_path`, `emulator_host` (`host:port`).
 */
export const backendModule = defineBackend<FirebaseSettings>({
  ...backendSettings,
  create(s, context) {
    const options: FirebaseBackendOptions = {};
    if (s.project_id !== undefined) options.projectId = s.project_id;
    if (s.service_account_key_path !== undefined) options.serviceAccountKeyPath = s.service_account_key_path;
    if (s.database_url !== undefined) options.databaseUrl = s.database_url;
    if (s.emulator_host !== undefined) options.emulatorHost = s.emulator_host;
    return new FirebaseBackend(options, { source: context.source, naming: 'settings' });
  },
});

/** The older entry point: the `firebase` settings of a resolved config, as options. */
export function createBackend(config: ResolvedConfig): FirebaseBackend {
  return backendModule.create(config.settings as FirebaseSettings, config) as FirebaseBackend;
}
