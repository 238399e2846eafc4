/**
 * Contract targets the CLI builds: one per first-party backend (a fresh temp directory, Redis
 * namespace or PostgreSQL schema per test) and one for any backend module named by path or package.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidValueError, memoryStoreCount, type CommunicationConfigInput, type Settings } from '@agent-state/core';
import type { ContractTarget } from './harness.js';

/** The backends the CLI knows by name (`--backend sqlite`), loaded through core's loader. */
export const FIRST_PARTY = ['memory', 'file', 'sqlite', 'redis', 'postgres', 'firebase'] as const;
export type FirstParty = (typeof FIRST_PARTY)[number];

/** What the user's `--config` adds to every test's store. */
export interface TargetOptions {
  /** Settings merged into every fresh config (server URLs, emulator host, timeouts). */
  settings?: Settings;
  /** Where temp directories go (file, sqlite); default the OS temp dir. */
  tempDir?: string;
}

/** A target plus what to undo once the whole run is over (a PostgreSQL schema). */
export interface BuiltTarget {
  target: ContractTarget;
  teardown(): Promise<void>;
}

const fresh = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;
/** A path under a regular file: no directory can ever be created there, even by root. */
const unreachablePath = (...parts: string[]) => join(process.execPath, 'agent-state-unreachable', ...parts);

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no loopback port');
  return address.port;
}

/** Imports `specifier` as its backend package would (its own dependencies: ioredis, pg). */
async function importFrom<T>(pkg: string, specifier: string): Promise<T> {
  const from = fileURLToPath(import.meta.resolve(pkg));
  return (await import(pathToFileURL(createRequire(from).resolve(specifier)).href)) as T;
}
async function importPackage<T>(pkg: string): Promise<T> {
  return (await import(pkg)) as T;
}
const total = (counts: object): number => Object.values(counts).reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);

/** The target of a first-party backend. */
export async function firstPartyTarget(name: FirstParty, options: TargetOptions = {}): Promise<BuiltTarget> {
  const settings: Settings = { ...options.settings };
  const base = options.tempDir ?? tmpdir();
  const none = async () => undefined;
  switch (name) {
    case 'memory':
      return {
        target: {
          name,
          multiProcess: false,
          crashSafe: false,
          config: () => ({ backend: 'memory', namespace: fresh('t'), settings }),
          storageCount: async (c) => memoryStoreCount(String(c.namespace)),
          // Memory keeps live objects, no serialised record: nothing there can be damaged.
          damage: false,
        },
        teardown: none,
      };
    case 'file':
    case 'sqlite': {
      const dirOf = (c: CommunicationConfigInput) => String(name === 'file' ? c.settings?.directory : join(String(c.settings?.database_path), '..'));
      const sqlite = name === 'sqlite' ? await importPackage<{ storageCounts(path: string, ns: string): object }>('@agent-state/backend-sqlite') : undefined;
      return {
        target: {
          name,
          multiProcess: true,
          crashSafe: true,
          config: () => {
            const dir = mkdtempSync(join(base, `agent-state-contract-${name}-`));
            return { backend: name, namespace: 'ns', settings: { ...settings, ...(name === 'file' ? { directory: dir } : { database_path: join(dir, 'state.db') }) } };
          },
          cleanup: (c) => rmSync(dirOf(c), { recursive: true, force: true }),
          unavailableConfig: () => ({
            backend: name,
            settings: { connect_timeout_ms: 1_000, ...(name === 'file' ? { directory: unreachablePath() } : { database_path: unreachablePath('state.db') }) },
          }),
          ...(sqlite && { storageCount: async (c: CommunicationConfigInput) => total(sqlite.storageCounts(String(c.settings?.database_path), c.namespace ?? 'ns')) }),
        },
        teardown: none,
      };
    }
    case 'redis': {
      // Core types only its common settings now (each backend module owns its own keys): read
      // Redis's as the strings and numbers its module accepts.
      const url = String(settings.redis_url ?? `redis://${String(settings.redis_host ?? '127.0.0.1')}:${Number(settings.redis_port ?? 6379)}/${Number(settings.redis_db ?? 0)}`);
      const prefix = String(settings.redis_key_prefix ?? 'agent-state');
      const mod = await importPackage<{ storageCount(o: { url: string; namespace: string; keyPrefix?: string }): Promise<number> }>('@agent-state/backend-redis');
      const { Redis } = await importFrom<{ Redis: new (url: string, o: object) => RedisLike }>('@agent-state/backend-redis', 'ioredis');
      return {
        target: {
          name,
          multiProcess: true,
          crashSafe: true,
          config: () => ({ backend: 'redis', namespace: fresh('contract'), settings: { redis_url: url, ...settings } }),
          cleanup: async (c) => {
            const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
            try {
              await client.connect();
              let cursor = '0';
              do {
                const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:{${c.namespace}}:*`, 'COUNT', 1000);
                if (keys.length > 0) await client.unlink(...keys);
                cursor = next;
              } while (cursor !== '0');
            } finally {
              client.disconnect();
            }
          },
          storageCount: (c) => mod.storageCount({ url, namespace: String(c.namespace), keyPrefix: prefix }),
          unavailableConfig: async () => ({ backend: 'redis', settings: { redis_host: '127.0.0.1', redis_port: await closedPort(), connect_timeout_ms: 1_000 } }),
        },
        teardown: none,
      };
    }
    case 'postgres': {
      const schema = settings.postgres_schema ?? `agent_state_contract_${randomBytes(4).toString('hex')}`;
      const own = settings.postgres_schema === undefined;
      const pgSettings: Settings = { postgres_url: 'postgres://postgres@127.0.0.1:5432/postgres', ...settings, postgres_schema: schema };
      const options = {
        ...(pgSettings.postgres_url !== undefined && { url: pgSettings.postgres_url }),
        ...(pgSettings.postgres_host !== undefined && { host: pgSettings.postgres_host }),
        ...(pgSettings.postgres_port !== undefined && { port: pgSettings.postgres_port }),
        ...(pgSettings.postgres_database !== undefined && { database: pgSettings.postgres_database }),
        ...(pgSettings.postgres_user !== undefined && { user: pgSettings.postgres_user }),
        ...(pgSettings.postgres_password !== undefined && { password: pgSettings.postgres_password }),
        schema,
      };
      const mod = await importPackage<{
        storageCounts(o: object, ns: string): Promise<object>;
        dropNamespace(o: object, ns: string): Promise<void>;
      }>('@agent-state/backend-postgres');
      return {
        target: {
          name,
          multiProcess: true,
          crashSafe: true,
          config: () => ({ backend: 'postgres', namespace: fresh('contract'), settings: pgSettings }),
          cleanup: (c) => mod.dropNamespace(options, String(c.namespace)),
          storageCount: async (c) => total(await mod.storageCounts(options, String(c.namespace))),
          unavailableConfig: async () => ({ backend: 'postgres', settings: { postgres_host: '127.0.0.1', postgres_port: await closedPort(), connect_timeout_ms: 1_000 } }),
        },
        teardown: async () => {
          if (!own) return;
          const pg = await importFrom<{ default: { Client: new (o: object) => PgLike } }>('@agent-state/backend-postgres', 'pg');
          const client = new pg.default.Client({
            connectionString: options.url,
            ...(options.host !== undefined && { host: options.host }),
            ...(options.port !== undefined && { port: options.port }),
            ...(options.database !== undefined && { database: options.database }),
            ...(options.user !== undefined && { user: options.user }),
            ...(options.password !== undefined && { password: options.password }),
          });
          await client.connect();
          try {
            await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          } finally {
            await client.end();
          }
        },
      };
    }
    case 'firebase': {
      if (!settings.emulator_host) {
        throw new InvalidValueError('--config settings.emulator_host', settings.emulator_host, 'the firebase backend is validated against an emulator: give its host:port');
      }
      return {
        target: {
          name,
          multiProcess: true,
          crashSafe: true,
          config: () => ({ backend: 'firebase', namespace: fresh('contract'), settings: { project_id: 'agent-state-contract', ...settings } }),
          unavailableConfig: async () => ({
            backend: 'firebase',
            namespace: 'unreachable',
            settings: { emulator_host: `127.0.0.1:${await closedPort()}`, project_id: 'agent-state-contract', connect_timeout_ms: 1_500 },
          }),
        },
        teardown: none,
      };
    }
  }
}

/**
 * The target of any backend module (a path or a package name exporting `createBackend(config)`
 * or `create(settings, config)`). The module may also export `contractTarget(options)` returning
 * a partial {@link ContractTarget} (`cleanup`, `storageCount`, `unavailableConfig`, `crashSafe`,
 * `config`), the way a backend author hands the kit what only they know.
 */
export async function moduleTarget(specifier: string, multiProcess: boolean, options: TargetOptions = {}): Promise<BuiltTarget> {
  const mod = (await import(specifier)) as { contractTarget?: (o: TargetOptions) => Partial<ContractTarget> | Promise<Partial<ContractTarget>> };
  const extra = typeof mod.contractTarget === 'function' ? await mod.contractTarget(options) : {};
  return {
    target: {
      name: specifier,
      multiProcess,
      config: () => ({ namespace: fresh('contract'), settings: { ...options.settings } }),
      ...extra,
      backendModule: specifier,
    },
    teardown: async () => undefined,
  };
}

interface RedisLike {
  connect(): Promise<void>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
  disconnect(): void;
}
interface PgLike {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
