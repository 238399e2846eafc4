/**
 * The file backend's options, and the mapping from the snake_case `project.yml` settings.
 */
import { isAbsolute, join } from 'node:path';
import { InvalidConfigError } from '@agent-state/core';
import type { BackendContext } from '@agent-state/core/backend';

/** How hard a write works to survive a power loss. */
export type Durability = 'fsync' | 'none';

/** Options of {@link createFileBackend}. Every default is stated here, once. */
export interface FileBackendOptions {
  /** The store's root directory (absolute). Each namespace gets a subdirectory of it. */
  directory: string;
  /**
   * Where write-ahead intent records of transactions go. Default `<directory>/<namespace>/tx`.
   * A shared path (e.g. `/tmp/agent-conductor-transactions`) is fine: each store gets its own
   * subfolder, named by a hash of its data directory and namespace.
   */
  transactionDir?: string;
  /**
   * Previous versions kept per key under `<namespace>/backups/` (hard links, so cheap); 0 turns
   * backups off. Coordination keys (`@…`) are never backed up. Default 5, as the seed plan sets.
   */
  backupCount?: number;
  /**
   * `fsync` (default): file and directory are fsynced before a write returns, so it survives a
   * power loss. `none`: atomic (rename) but not synced; for /dev/shm or scratch stores.
   */
  durability?: Durability;
}

/** Default number of previous versions kept per key. */
export const DEFAULT_BACKUP_COUNT = 5;
/** Default durability. */
export const DEFAULT_DURABILITY: Durability = 'fsync';
/** Default store directory, relative to the project (where project.yml is, or the cwd). */
export const DEFAULT_DIRECTORY_NAME = '.agent-state';

/** Options with every default filled in. */
export interface ResolvedFileOptions {
  directory: string;
  transactionDir: string | undefined;
  backupCount: number;
  durability: Durability;
}

/** Checks the options and fills in the defaults; `InvalidConfigError` names a wrong one. */
export function resolveOptions(options: FileBackendOptions): ResolvedFileOptions {
  const fail = (field: string, problem: string): never => {
    throw new InvalidConfigError('createFileBackend', `options.${field}`, problem);
  };
  if (typeof options.directory !== 'string' || !isAbsolute(options.directory)) {
    fail('directory', `expected an absolute path, got ${JSON.stringify(options.directory)}`);
  }
  if (options.transactionDir !== undefined && (typeof options.transactionDir !== 'string' || !isAbsolute(options.transactionDir))) {
    fail('transactionDir', `expected an absolute path, got ${JSON.stringify(options.transactionDir)}`);
  }
  const backups = options.backupCount;
  if (backups !== undefined && (!Number.isInteger(backups) || backups < 0)) {
    fail('backupCount', `expected a whole number >= 0, got ${String(backups)}`);
  }
  if (options.durability !== undefined && options.durability !== 'fsync' && options.durability !== 'none') {
    fail('durability', `expected one of fsync, none, got ${JSON.stringify(options.durability)}`);
  }
  return {
    directory: options.directory,
    transactionDir: options.transactionDir,
    backupCount: options.backupCount ?? DEFAULT_BACKUP_COUNT,
    durability: options.durability ?? DEFAULT_DURABILITY,
  };
}

/** The file backend's keys of `communication.settings`, as its module's schema checks them. */
export interface FileSettings {
  /** Store directory; relative to the project directory; default `.agent-state`. */
  directory?: string;
  /** Where transaction intent records go (see {@link FileBackendOptions.transactionDir}). */
  transaction_dir?: string;
  /** Previous versions kept per key; default 5. */
  backup_count?: number;
  /** `fsync` (default) or `none`. */
  durability?: Durability;
}

/**
 * Maps `project.yml` settings (already checked, and made absolute, by the module's schema) to
 * options. `lock_timeout` is read by core (it becomes the default `ttlMs` of `lock()`).
 */
export function optionsFromConfig(settings: FileSettings, context: Pick<BackendContext, 'baseDir'>): FileBackendOptions {
  const s = settings;
  return {
    directory: s.directory ?? join(context.baseDir, DEFAULT_DIRECTORY_NAME),
    ...(s.transaction_dir !== undefined && { transactionDir: s.transaction_dir }),
    ...(s.backup_count !== undefined && { backupCount: s.backup_count }),
    ...(s.durability !== undefined && { durability: s.durability }),
  };
}

declare module '@agent-state/core' {
  /** `project.yml` settings of the file backend, typed on core's `Settings` wherever this package is imported. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the keys into core's interface
  interface Settings extends FileSettings {}
}
