/** The entry point `openState()` calls: `project.yml` settings in, a file backend out. */
import type { ResolvedConfig } from '@agent-state/core';
import { FileBackend } from './file-backend.js';
import { optionsFromConfig } from './options.js';

/**
 * Creates the file backend from a resolved configuration. An unset `directory` means
 * `<project dir>/.agent-state` (the project dir is where project.yml is, or the cwd).
 */
export function createBackend(config: ResolvedConfig): FileBackend {
  return new FileBackend(optionsFromConfig(config));
}
