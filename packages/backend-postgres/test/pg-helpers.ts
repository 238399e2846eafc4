/**
 * The PostgreSQL the tests use (127.0.0.1:5432, trust auth, user postgres, or POSTGRES_TEST_URL):
 * one schema per test run (dropped after), one namespace per test. Without a server the tests
 * are skipped with the reason, except under CI=true, where that is a failure.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_URL = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** This run's schema. */
export const RUN_SCHEMA = `agent_state_test_${process.pid}_${randomBytes(3).toString('hex')}`;

let counter = 0;
/** A fresh namespace for one test. */
export function freshNamespace(label = 't'): string {
  return `${label}-${process.pid}-${++counter}-${randomBytes(2).toString('hex')}`;
}

/** True when the server answers within 3 s. */
export async function serverAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_URL, connectionTimeoutMillis: 3_000 });
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

/** Fails under CI=true when the server is missing; otherwise returns whether tests should run. */
export async function requireServer(): Promise<boolean> {
  const up = await serverAvailable();
  if (!up && process.env.CI === 'true') throw new Error(`PostgreSQL is not answering at ${TEST_URL} (CI=true: a missing server is a failure)`);
  return up;
}

/** Runs one SQL statement on its own connection. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops this run's schema. */
export async function dropRunSchema(schema = RUN_SCHEMA): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** A closed port on localhost: bound, then released. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
