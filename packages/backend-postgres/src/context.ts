/** What every module of a client works with: the pool, the SQL of its schema, its namespace. */
import type { Db } from './connection.js';
import type { Sql } from './sql.js';

export interface Context {
  db: Db;
  sql: Sql;
  namespace: string;
  /** The LISTEN/NOTIFY channel of this schema and namespace. */
  channel: string;
  target: string;
}

/** The advisory-lock name of an entry key (commit, write, delete, increment and repair lock it). */
export const entryLockName = (namespace: string, key: string) => JSON.stringify(['entry', namespace, key]);
/** The advisory-lock name of a lock resource. */
export const resourceLockName = (namespace: string, resource: string) => JSON.stringify(['lock', namespace, resource]);

/** NOTIFY payloads: `k<key>` (an entry changed), `q<queue>`, `l<log>`, `r<resource>` (a lease released). */
export const keyPayload = (key: string) => `k${key}`;
export const queuePayload = (queue: string) => `q${queue}`;
export const logPayload = (log: string) => `l${log}`;
export const lockPayload = (resource: string) => `r${resource}`;
