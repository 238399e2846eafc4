import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` of the firebase-server emulator of this run, or '' when firebase is not built. */
    firebaseEmulatorHost: string;
    /** The PostgreSQL schema of this run (dropped at the end), or '' when no server answers. */
    postgresSchema: string;
  }
}

/**
 * Starts one firebase-server emulator (the backend's own `@agent-state/backend-firebase/emulator`)
 * for the run, when the firebase backend is built.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dropSchema = await setupPostgres(project);
  const stopFirebase = await setupFirebase(project);
  return async () => {
    await stopFirebase();
    await dropSchema();
  };
}

const POSTGRES_URL = process.env['POSTGRES_TEST_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A schema for this run's Postgres stores, dropped afterwards; '' when no server answers. */
async function setupPostgres(project: TestProject): Promise<() => Promise<void>> {
  const schema = `agent_state_migrate_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
  } catch {
    project.provide('postgresSchema', '');
    return async () => undefined;
  }
  project.provide('postgresSchema', schema);
  return async () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await c.end();
    }
  };
}

async function setupFirebase(project: TestProject): Promise<() => Promise<void>> {
  const built = existsSync(fileURLToPath(new URL('../../../packages/backend-firebase/dist/index.js', import.meta.url)));
  if (!built) {
    project.provide('firebaseEmulatorHost', '');
    return async () => undefined;
  }
  const { startEmulator } = await import('@agent-state/backend-firebase/emulator');
  const emulator = await startEmulator();
  project.provide('firebaseEmulatorHost', emulator.host);
  return emulator.stop;
}
