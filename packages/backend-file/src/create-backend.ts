/** The older entry point: a resolved configuration in, a file backend out. */
import type { ResolvedConfig } from '@agent-state/core';
import type { FileBackend } from './file-backend.js';
import { backendModule } from './module.js';
import type { FileSettings } from './options.js';

/**
 * Creates the file backend from a resolved configuration (what `backendModule.create` does). An
 * unset `directory` means `<project dir>/.agent-state` (the project dir is where project.yml is,
 * or the cwd).
 */
export function createBackend(config: ResolvedConfig): FileBackend {
  return backendModule.create(config.settings as FileSettings, config) as FileBackend;
}
