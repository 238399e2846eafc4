/**
 * Fresh, isolated stores per bench run: a temp dir (file, SQLite, lock files), a random
 * namespace (Redis keys, Firebase nodes); all removed afterwards. Also finds out which
 * backends can run here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { BenchBackend, StoreRef } from './subjects/types.js';

/** The Redis the bench uses: `REDIS_URL`, else the local default port. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env['REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/** The Postgres the bench uses: `POSTGRES_URL`, else the local default port as user postgres. */
export function postgresUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env['POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** The schema holding one run's Postgres tables (`bench-1a2b3c4d` → `bench_1a2b3c4d`). */
export function postgresSchemaOf(store: Pick<StoreRef, 'namespace'>): string {
  return store.namespace.replaceAll('-', '_');
}

/** True when Postgres at `url` accepts a connection and answers a query within `timeoutMs`. */
export async function postgresAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True when a PING to `url` answers within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 700): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Creates the store of one backend for one run. */
export function createStore(backend: BenchBackend, extra: Pick<StoreRef, 'redisUrl' | 'postgresUrl' | 'firebase'> = {}): StoreRef {
  const root = mkdtempSync(join(tmpdir(), `agent-state-bench-${backend}-`));
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  return { backend, root, namespace, ...extra };
}

/** Removes everything the run left: the temp dir and every Redis key carrying the namespace. */
export async function destroyStore(store: StoreRef): Promise<void> {
  rmSync(store.root, { recursive: true, force: true });
  if (store.backend === 'redis') {
    const client = new Redis(store.redisUrl ?? redisUrlFromEnv(), { maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `*${store.namespace}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  }
  if (store.backend === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: store.postgresUrl ?? postgresUrlFromEnv(), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      // Ours and raw share the run's schema; pg-boss has its own beside it.
      await client.query(`DROP SCHEMA IF EXISTS "${postgresSchemaOf(store)}" CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS "${postgresSchemaOf(store)}_boss" CASCADE`);
    } finally {
      await client.end();
    }
  }
  if (store.backend === 'firebase' && store.firebase) await removeFirebaseNodes(store);
}

/** Removes the run's top-level nodes (ours: the namespace; raw: `<namespace>-raw`). */
async function removeFirebaseNodes(store: StoreRef): Promise<void> {
  process.env['FIREBASE_DATABASE_EMULATOR_HOST'] = store.firebase!.emulatorHost;
  const { initializeApp, deleteApp } = await import('firebase-admin/app');
  const { getDatabase } = await import('firebase-admin/database');
  const app = initializeApp({ databaseURL: store.firebase!.databaseUrl, projectId: 'agent-state-bench' }, `bench-cleanup-${store.namespace}`);
  try {
    const db = getDatabase(app);
    await Promise.all([db.ref(store.namespace).remove(), db.ref(`${store.namespace}-raw`).remove()]);
  } finally {
    await deleteApp(app);
  }
}
