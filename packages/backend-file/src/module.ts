/** The file backend's module: what `project.yml` (`backend: file`) opens, and its settings. */
import type { ResolvedConfig } from '@agent-state/core';
import { defineBackend } from '@agent-state/core/backend';
import { backendSettings } from './settings.js';
import { FileBackend } from './file-backend.js';
import { optionsFromConfig, type FileSettings } from './options.js';

/**
 * `backend: file`. Settings: `directory` (default `<project dir>/.agent-state`),
 * `transaction_dir`, `backup_count` (default 5), `durability` (`fsync` or `none`).
 */
export const backendModule = defineBackend<FileSettings>({
  ...backendSettings,
  create: (settings, context) => new FileBackend(optionsFromConfig(settings, context)),
});

/**
 * The older entry point, kept for callers of the first wave: a resolved configuration in (its
 * settings already checked by {@link backendModule}'s schema), a backend out.
 */
export function createBackend(config: ResolvedConfig): FileBackend {
  return backendModule.create(config.settings as FileSettings, config) as FileBackend;
}
