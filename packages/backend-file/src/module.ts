/** The file backend's module: what `project.yml` (`backend: file`) opens, and its settings. */
import { defineBackend } from '@agent-state/core/backend';
import { FileBackend } from './file-backend.js';
import { optionsFromConfig, type FileSettings } from './options.js';

/**
 * `backend: file`. Settings: `directory` (default `<project dir>/.agent-state`),
 * `transaction_dir`, `backup_count` (default 5), `durability` (`fsync` or `none`).
 */
export const backendModule = defineBackend<FileSettings>({
  name: 'file',
  settings: (z, t) =>
    z.object({
      directory: t.path().optional(),
      transaction_dir: t.path().optional(),
      backup_count: t.count().optional(),
      durability: t.oneOf(['fsync', 'none']).optional(),
    }),
  paths: ['directory', 'transaction_dir'],
  create: (settings, context) => new FileBackend(optionsFromConfig(settings, context)),
});
