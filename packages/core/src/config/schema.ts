import type { z as Zod } from 'zod';
import { settingTypes, zod } from './zod.js';

/**
 * What `communication.backend` may say: a short name (`<name>` means the package
 * `@agent-state/backend-<name>`; `memory` is core's own in-process backend) or a package named
 * in full (`"@acme/agent-state-backend-x"`).
 */
export type BackendName = string;

/** The backend used when `project.yml` names none. */
export const DEFAULT_BACKEND = 'file';

/** Settings core itself reads, whatever the backend (types checked by core). */
export const COMMON_SETTINGS = ['max_value_bytes', 'connect_timeout_ms', 'lock_timeout'] as const;

/**
 * The setting names of the first-party backends (snake_case, as the seed plan writes them).
 * Only names: each backend module owns its settings' types, defaults and checks. They are kept
 * here so that a seed `project.yml` that mixes every backend's keys still loads when some of
 * those backends are not installed; a key that neither this list nor an installed module knows
 * is an error.
 */
export const FIRST_PARTY_SETTING_NAMES: readonly string[] = [
  // file
  'directory',
  'transaction_dir',
  'backup_count',
  'durability',
  // sqlite
  'database_path',
  'connection_pool_size',
  'busy_timeout_ms',
  'synchronous',
  // redis
  'redis_url',
  'redis_host',
  'redis_port',
  'redis_db',
  'redis_username',
  'redis_password',
  'redis_tls',
  'redis_key_prefix',
  // firebase
  'project_id',
  'service_account_key_path',
  'database_url',
  'emulator_host',
  // postgres
  'postgres_url',
  'postgres_host',
  'postgres_port',
  'postgres_database',
  'postgres_user',
  'postgres_password',
  'postgres_schema',
  'postgres_pool_size',
  'statement_timeout_ms',
];

/** A short backend name, or an npm package name (scoped or not). */
const BACKEND_SPEC = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const SEGMENT = /^[A-Za-z0-9._\-:@+=,]{1,128}$/;

let schemas: { common: Zod.ZodObject; communication: Zod.ZodObject } | undefined;

/** The zod schemas of the `communication` block and of core's common settings, built on first use. */
export function configSchemas(): { common: Zod.ZodObject; communication: Zod.ZodObject } {
  if (schemas) return schemas;
  const z = zod();
  const t = settingTypes();
  const common = z.object({
    max_value_bytes: t.positiveInt().optional(),
    connect_timeout_ms: t.positiveInt().optional(),
    lock_timeout: t.positive().optional(),
  });
  const communication = z.strictObject({
    backend: z.string().regex(BACKEND_SPEC).optional(),
    namespace: z
      .string()
      .regex(SEGMENT)
      .refine((s) => s !== '.' && s !== '..')
      .optional(),
    settings: z.record(z.string(), z.unknown()).nullable().optional(),
  });
  return (schemas = { common, communication });
}

/** Whether `name` is a syntactically valid `communication.backend`. */
export function isBackendSpec(name: string): boolean {
  return BACKEND_SPEC.test(name);
}

/**
 * Settings after validation: core's common ones typed here; every other key is the backend
 * module's (its own `settings` schema gives their types and defaults).
 */
export interface Settings {
  /** Largest serialized value, in bytes (default 1 MiB). */
  max_value_bytes?: number;
  /** Bound on connecting, in ms (default 5000). */
  connect_timeout_ms?: number;
  /** Default lock lease, in seconds (default 30). */
  lock_timeout?: number;
  [name: string]: unknown;
}

/** The `communication` block as a user writes it (in YAML or as an object). */
export interface CommunicationConfigInput {
  /**
   * Which backend: a short name (`file`, `sqlite`, `redis`, …: the package
   * `@agent-state/backend-<name>`; `memory` is core's own) or a package named in full. Default
   * `file`. `COMMUNICATION_BACKEND` in the environment overrides it.
   */
  backend?: BackendName;
  /** Default `default`. Two namespaces on one store never see each other's data. */
  namespace?: string;
  settings?: Settings | null;
}
