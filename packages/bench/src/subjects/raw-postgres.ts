/**
 * Raw `pg` (node-postgres) baseline for the Postgres backend: what a careful hand-written store
 * does with one table in the run's schema: point `SELECT`, an upsert that bumps a version, and a
 * read-modify-write in a transaction with `SELECT … FOR UPDATE`. A pool of 10, pg's default.
 */
import { postgresSchemaOf, postgresUrlFromEnv } from '../stores.js';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

export const rawPostgres: SubjectSpec = {
  id: 'raw',
  kind: 'raw',
  label: 'pg Pool: SELECT v; INSERT … ON CONFLICT DO UPDATE (version + 1); BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT',
  capabilities: ['read', 'write', 'rmw'],
  async open(store: StoreRef): Promise<Subject> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: store.postgresUrl ?? postgresUrlFromEnv(), max: 10, connectionTimeoutMillis: 5_000 });
    pool.on('error', () => undefined);
    const table = `"${postgresSchemaOf(store)}".raw_kv`;
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${postgresSchemaOf(store)}"`).catch(() => undefined);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (k text PRIMARY KEY, v jsonb NOT NULL, version bigint NOT NULL)`);
    const read = `SELECT v FROM ${table} WHERE k = $1`;
    const upsert = `INSERT INTO ${table} (k, v, version) VALUES ($1, $2, 1) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, version = ${table}.version + 1`;
    return {
      read: async (key) => (await pool.query(read, [key])).rows[0]?.v,
      write: async (key, value) => {
        await pool.query(upsert, [key, JSON.stringify(value)]);
      },
      rmw: async (key, fn) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const current = (await client.query(`SELECT v FROM ${table} WHERE k = $1 FOR UPDATE`, [key])).rows[0]?.v;
          await client.query(upsert, [key, JSON.stringify(fn(current))]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  },
};
