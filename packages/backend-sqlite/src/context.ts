/**
 * What every operation works with: the connection, its prepared statements, the namespace, and
 * the path for error messages. Built once per client.
 */
import type Database from 'better-sqlite3';
import { registerFunctions } from './functions.js';
import { prepareLogStatements, type LogStatements } from './logs.js';
import { prepareQueueStatements, type QueueStatements } from './queues.js';
import { prepareStatements, type Statements } from './statements.js';

/** One client's view of the database. */
export interface Scope {
  db: Database.Database;
  st: Statements;
  /** Native queue statements (queues.ts). */
  qs: QueueStatements;
  /** Native log statements (logs.ts). */
  ls: LogStatements;
  namespace: string;
  /** The database path (or `:memory:`), named by errors. */
  path: string;
  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction (the write lock is taken first, so the reads
   * inside cannot go stale), committing on return and rolling back on throw. Inside another
   * transaction it becomes a savepoint.
   */
  immediate<T>(fn: () => T): T;
  /** Runs `fn` in a deferred (read) transaction: one consistent snapshot for several reads. */
  snapshot<T>(fn: () => T): T;
}

/** Builds the scope of one client: prepares the statements (once per connection). */
export function createScope(db: Database.Database, namespace: string, path: string): Scope {
  registerFunctions(db, path);
  const run = db.transaction((fn: () => unknown) => fn());
  return {
    db,
    st: prepareStatements(db),
    qs: prepareQueueStatements(db),
    ls: prepareLogStatements(db),
    namespace,
    path,
    immediate: <T>(fn: () => T) => run.immediate(fn) as T,
    snapshot: <T>(fn: () => T) => run.deferred(fn) as T,
  };
}
