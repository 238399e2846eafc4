/**
 * Entry points: {@link createFirebaseBackend} for code, {@link createBackend} for `openState()`,
 * which maps the snake_case settings of project.yml to the typed options.
 */
import type { ResolvedConfig } from '@agent-state/core';
import { FirebaseBackend } from './firebase-backend.js';
import type { FirebaseBackendOptions } from './options.js';

/**
 * Creates a Firebase Realtime Database backend. Options are checked and the service-account key
 * is loaded here (`InvalidConfigError` on a problem); the connection opens in `init`.
 */
export function createFirebaseBackend(options: FirebaseBackendOptions = {}): FirebaseBackend {
  return new FirebaseBackend(options);
}

/** Called by `openState()`: the `firebase` settings of a resolved config, as options. */
export function createBackend(config: ResolvedConfig): FirebaseBackend {
  const s = config.settings;
  const options: FirebaseBackendOptions = {};
  if (s.project_id !== undefined) options.projectId = s.project_id;
  if (s.service_account_key_path !== undefined) options.serviceAccountKeyPath = s.service_account_key_path;
  if (s.database_url !== undefined) options.databaseUrl = s.database_url;
  if (s.emulator_host !== undefined) options.emulatorHost = s.emulator_host;
  return new FirebaseBackend(options, { source: config.source, naming: 'settings' });
}
