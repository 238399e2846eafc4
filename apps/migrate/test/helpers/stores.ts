/**
 * The stores the tests migrate between: every backend whose package is built, each store fresh
 * and isolated (a temp dir, a temp SQLite file, a random Redis namespace, a random namespace on
 * the emulator), written as a YAML config file for --from-config/--to-config.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { Redis } from 'ioredis';
import { openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import { dropNamespace } from '@agent-state/backend-postgres';

export const ALL_BACKENDS = ['file', 'sqlite', 'redis', 'firebase', 'postgres'] as const;
export type TestBackend = (typeof ALL_BACKENDS)[number];

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const REDIS_PREFIX = 'agent-state-migrate-test';
export const POSTGRES_URL = process.env['POSTGRES_TEST_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Built backends, and why the others are skipped. */
export function availableBackends(): { available: TestBackend[]; skipped: string[] } {
  const available: TestBackend[] = [];
  const skipped: string[] = [];
  for (const b of ALL_BACKENDS) {
    const dist = fileURLToPath(new URL(`../../../../packages/backend-${b}/dist/index.js`, import.meta.url));
    if (!existsSync(dist)) skipped.push(`${b}: packages/backend-${b} is not built (npm run build -w @agent-state/backend-${b})`);
    else if (b === 'firebase' && !inject('firebaseEmulatorHost')) skipped.push('firebase: no emulator');
    else if (b === 'postgres' && !inject('postgresSchema')) skipped.push(`postgres: no server answering at ${POSTGRES_URL}`);
    else available.push(b);
  }
  // Under CI nothing may be skipped silently: a backend that is not there fails the run, saying why.
  if (process.env['CI'] === 'true' && skipped.length > 0) throw new Error(`CI=true but some backends cannot be tested: ${skipped.join('; ')}`);
  return { available, skipped };
}

/** One isolated store. */
export interface TestStore {
  backend: TestBackend;
  config: CommunicationConfigInput;
  /** Writes the config as `<dir>/<name>.yml` and returns the path. */
  writeConfig(dir: string, name: string): string;
  open(): Promise<StateClient>;
  cleanup(): Promise<void>;
}

/** A fresh, empty store on `backend`. */
export function freshStore(backend: TestBackend): TestStore {
  const namespace = `m-${randomBytes(5).toString('hex')}`;
  let dir: string | undefined;
  let settings: Record<string, unknown>;
  switch (backend) {
    case 'file':
      dir = mkdtempSync(join(tmpdir(), 'migrate-file-'));
      // A short connect timeout: the migration waits it out after marking its source (the fence).
      settings = { directory: dir, durability: 'none', backup_count: 0, connect_timeout_ms: 2_000 };
      break;
    case 'sqlite':
      dir = mkdtempSync(join(tmpdir(), 'migrate-sqlite-'));
      settings = { database_path: join(dir, 'state.db'), connect_timeout_ms: 2_000 };
      break;
    case 'redis':
      settings = { redis_url: REDIS_URL, redis_key_prefix: REDIS_PREFIX };
      break;
    case 'firebase':
      settings = { emulator_host: inject('firebaseEmulatorHost'), project_id: 'agent-state-test' };
      break;
    case 'postgres':
      // One schema for the whole run (test/global-setup.ts drops it), one namespace per store.
      settings = { postgres_url: POSTGRES_URL, postgres_schema: inject('postgresSchema'), connect_timeout_ms: 2_000 };
      break;
  }
  const config = { backend, namespace, settings } as CommunicationConfigInput;
  return {
    backend,
    config,
    writeConfig(at, name) {
      const path = join(at, `${name}.yml`);
      writeFileSync(path, stringify({ communication: config }));
      return path;
    },
    open: () => openState({ config, env: {} }),
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (backend === 'redis') await dropRedisNamespace(namespace);
      if (backend === 'postgres') await dropNamespace({ url: POSTGRES_URL, schema: inject('postgresSchema') }, namespace);
      if (backend === 'firebase') {
        const state = await openState({ config, env: {} });
        try {
          await deleteAll(state);
        } finally {
          await state.close();
        }
      }
    },
  };
}

/** Deletes every entry of a namespace (user and coordination keys). */
export async function deleteAll(state: StateClient): Promise<void> {
  const keys: string[] = [];
  for await (const e of state.list()) keys.push(e.key);
  for await (const e of state.list({ prefix: '@' })) keys.push(e.key);
  for (let i = 0; i < keys.length; i += 200) {
    const slice = keys.slice(i, i + 200);
    await state.transaction((tx) => slice.forEach((k) => tx.delete(k)));
  }
}

async function dropRedisNamespace(namespace: string): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${REDIS_PREFIX}:{${namespace}}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A temp working directory for a test (checkpoints, JSONL files, project.yml). */
export function tempDir(label = 'migrate-cwd-'): string {
  return mkdtempSync(join(tmpdir(), label));
}
