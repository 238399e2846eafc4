/**
 * `@agent-state/core/backend`: the surface for backend authors and tools (the migration tool,
 * the contract kit, the CLI), kept apart from the client API of `@agent-state/core`.
 *
 * - the backend module shape (`defineBackend`, `BackendModule`, `SettingTypes`) and how core finds
 *   modules (`registerBackend`, `loadBackendModule`, `findBackendModule`);
 * - the helpers every backend uses to keep the contract (`assertVersion`, `makeEntry`, …);
 * - {@link backendOf}: the backend under a client, for tools that copy or inspect a store.
 */
import type { StateClient } from './client.js';
import type { CommunicationBackend } from './types.js';

export { defineBackend, registerBackend, registeredBackend, loadBackendModule, findBackendModule, installedBackendSettings, moduleOf, packageCandidates, settingsSchemaOf, memoryModule } from './backend-module.js';
export type { BackendModule, BackendContext, BackendSettings, SettingsSchema } from './backend-module.js';
export { settingTypes } from './config/zod.js';
export type { SettingTypes, ZodApi } from './config/zod.js';
export { configuredBackend, loadConfig } from './config/load.js';
export type { ResolvedConfig, ConfiguredBackend } from './config/load.js';
export { COMMON_SETTINGS, FIRST_PARTY_SETTING_NAMES } from './config/schema.js';
export { assertVersion, assertLeaseHeld, leaseIsLive, makeEntry, compareKeys, keyInPage, firstWaveJob, firstWaveJobState, storedValueDamage } from './backend-kit.js';
export type { FirstWaveJob, FirstWaveJobState } from './backend-kit.js';
export type * from './types.js';

/**
 * The backend under a client (with core's metering and migration fence on top). For tools that
 * need the storage surface itself (`list` pages, native coordination families); applications use
 * the client.
 */
export function backendOf(state: StateClient): CommunicationBackend {
  return state.backend;
}
