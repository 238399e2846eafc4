import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

// zod is loaded on the first validation, not when core is imported: a CLI call that only needs
// a client pays ~50 ms less start-up (measured with --cpu-prof). Loaded with require so that
// loadConfig() stays synchronous; zod ships a CommonJS build.
const require = createRequire(import.meta.url);
let zodModule: typeof import('zod') | undefined;
function zod(): typeof Zod {
  zodModule ??= require('zod') as typeof import('zod');
  return zodModule.z;
}

/** Backends `project.yml` may name. `memory` is for tests (one process, nothing persisted). */
export const BACKEND_NAMES = ['file', 'sqlite', 'redis', 'firebase', 'postgres', 'memory'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

type Kind = 'string' | 'path' | 'positive' | 'positiveInt' | 'count' | 'port' | 'boolean' | 'url' | 'hostPort';

interface SettingSpec {
  kind: Kind;
  /** Which backend reads it; `common` = every backend. */
  owner: BackendName | 'common';
  /** Allowed string values, for enumerations. */
  oneOf?: readonly string[];
}

/**
 * Every setting `project.yml` may hold, in one map (snake_case, as the seed plan writes them).
 * Each backend reads its own keys; the others' keys are allowed and validated too.
 */
export const SETTINGS = {
  // common
  max_value_bytes: { kind: 'positiveInt', owner: 'common' },
  connect_timeout_ms: { kind: 'positiveInt', owner: 'common' },
  lock_timeout: { kind: 'positive', owner: 'common' },
  // file
  directory: { kind: 'path', owner: 'file' },
  transaction_dir: { kind: 'path', owner: 'file' },
  backup_count: { kind: 'count', owner: 'file' },
  durability: { kind: 'string', owner: 'file', oneOf: ['fsync', 'none'] },
  // sqlite
  database_path: { kind: 'path', owner: 'sqlite' },
  connection_pool_size: { kind: 'positiveInt', owner: 'sqlite' },
  busy_timeout_ms: { kind: 'count', owner: 'sqlite' },
  synchronous: { kind: 'string', owner: 'sqlite', oneOf: ['normal', 'full'] },
  // redis
  redis_url: { kind: 'url', owner: 'redis' },
  redis_host: { kind: 'string', owner: 'redis' },
  redis_port: { kind: 'port', owner: 'redis' },
  redis_db: { kind: 'count', owner: 'redis' },
  redis_username: { kind: 'string', owner: 'redis' },
  redis_password: { kind: 'string', owner: 'redis' },
  redis_tls: { kind: 'boolean', owner: 'redis' },
  redis_key_prefix: { kind: 'string', owner: 'redis' },
  // firebase
  project_id: { kind: 'string', owner: 'firebase' },
  service_account_key_path: { kind: 'path', owner: 'firebase' },
  database_url: { kind: 'url', owner: 'firebase' },
  emulator_host: { kind: 'hostPort', owner: 'firebase' },
  // postgres
  postgres_url: { kind: 'url', owner: 'postgres' },
  postgres_host: { kind: 'string', owner: 'postgres' },
  postgres_port: { kind: 'port', owner: 'postgres' },
  postgres_database: { kind: 'string', owner: 'postgres' },
  postgres_user: { kind: 'string', owner: 'postgres' },
  postgres_password: { kind: 'string', owner: 'postgres' },
  postgres_schema: { kind: 'string', owner: 'postgres' },
  postgres_pool_size: { kind: 'positiveInt', owner: 'postgres' },
  statement_timeout_ms: { kind: 'positiveInt', owner: 'postgres' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

/** What a setting of each kind must be, in words for error messages. */
export const EXPECTATION: Record<Kind, string> = {
  string: 'a string',
  path: 'a non-empty path',
  positive: 'a number greater than 0',
  positiveInt: 'a whole number greater than 0',
  count: 'a whole number >= 0',
  port: 'a whole number from 1 to 65535',
  boolean: 'true or false',
  url: 'a URL',
  hostPort: 'host:port',
};

function kindSchema(spec: SettingSpec): Zod.ZodType {
  const z = zod();
  if (spec.oneOf) return z.enum(spec.oneOf as [string, ...string[]]);
  switch (spec.kind) {
    case 'string':
      return z.string();
    case 'path':
      return z.string().min(1);
    case 'positive':
      return z.number().positive().finite();
    case 'positiveInt':
      return z.number().int().positive();
    case 'count':
      return z.number().int().nonnegative();
    case 'port':
      return z.number().int().min(1).max(65535);
    case 'boolean':
      return z.boolean();
    case 'url':
      return z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i);
    case 'hostPort':
      return z.string().regex(/^[^\s:/]+:\d{1,5}$/);
  }
}

/** The kind of a setting, for coercing values that came from `${VAR}` substitution. */
export function settingKind(name: string): Kind | undefined {
  return (SETTINGS as Record<string, SettingSpec>)[name]?.kind;
}

/** Allowed values of an enumerated setting. */
export function settingChoices(name: string): readonly string[] | undefined {
  return (SETTINGS as Record<string, SettingSpec>)[name]?.oneOf;
}

/** The backend a setting belongs to (`common` for all). */
export function settingOwner(name: string): BackendName | 'common' | undefined {
  return (SETTINGS as Record<string, SettingSpec>)[name]?.owner;
}

const SEGMENT = /^[A-Za-z0-9._\-:@+=,]{1,128}$/;

let schemas: { settings: Zod.ZodType; communication: Zod.ZodType } | undefined;

/** The zod schemas of the `communication` block, built on first use. */
export function configSchemas(): { settings: Zod.ZodType; communication: Zod.ZodType } {
  if (schemas) return schemas;
  const z = zod();
  const settingsShape = Object.fromEntries(Object.entries(SETTINGS).map(([name, spec]) => [name, kindSchema(spec).optional()]));
  const settings = z.strictObject(settingsShape);
  const communication = z.strictObject({
    backend: z.enum(BACKEND_NAMES).optional(),
    namespace: z
      .string()
      .regex(SEGMENT)
      .refine((s) => s !== '.' && s !== '..')
      .optional(),
    settings: settings.nullable().optional(),
  });
  return (schemas = { settings, communication });
}

/** Settings after validation. Types follow the table above. */
export interface Settings {
  max_value_bytes?: number;
  connect_timeout_ms?: number;
  lock_timeout?: number;
  directory?: string;
  transaction_dir?: string;
  backup_count?: number;
  durability?: 'fsync' | 'none';
  database_path?: string;
  connection_pool_size?: number;
  busy_timeout_ms?: number;
  synchronous?: 'normal' | 'full';
  redis_url?: string;
  redis_host?: string;
  redis_port?: number;
  redis_db?: number;
  redis_username?: string;
  redis_password?: string;
  redis_tls?: boolean;
  redis_key_prefix?: string;
  project_id?: string;
  service_account_key_path?: string;
  database_url?: string;
  emulator_host?: string;
  postgres_url?: string;
  postgres_host?: string;
  postgres_port?: number;
  postgres_database?: string;
  postgres_user?: string;
  postgres_password?: string;
  postgres_schema?: string;
  postgres_pool_size?: number;
  statement_timeout_ms?: number;
}

/** The `communication` block as a user writes it (in YAML or as an object). */
export interface CommunicationConfigInput {
  /** Which backend; default `file`. `COMMUNICATION_BACKEND` in the environment overrides it. */
  backend?: BackendName;
  /** Default `default`. Two namespaces on one store never see each other's data. */
  namespace?: string;
  settings?: Settings | null;
}
