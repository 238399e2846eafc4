/**
 * The store's tables in one Postgres schema (default `agent_state`), created and upgraded by
 * numbered migrations; the format version is the row `meta('format')`. A newer format than this
 * package knows is refused with INVALID_CONFIG naming both. Migrations run in one transaction
 * under a transaction-level advisory lock, so processes opening a new store at once create it
 * exactly once (DDL is transactional in Postgres).
 *
 * Every text column that is compared or ordered uses the "C" collation: byte order, which for the
 * ASCII key grammar is JavaScript's code-unit order that `list` promises.
 */
import { InvalidConfigError } from '@agent-state/core';
import type { Query } from './connection.js';

/** Migration `i` moves the store from format i to i + 1. `S` is replaced by the quoted schema. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE S.meta (name text COLLATE "C" PRIMARY KEY, value text NOT NULL);
  -- The server's clock in epoch ms: every TTL, lease and log time is read from it.
  CREATE FUNCTION S.now_ms() RETURNS bigint LANGUAGE sql VOLATILE PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

  CREATE TABLE S.entries (
    namespace  text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      text   NOT NULL,          -- the JSON text as core serialized it
    checksum   text,                     -- md5(value) in hex; NULL = written by another tool, JSON-checked only
    version    bigint NOT NULL,
    updated_at bigint NOT NULL,          -- epoch ms (server clock)
    expires_at bigint,                   -- epoch ms; the row reads as absent from then on
    PRIMARY KEY (namespace, key)
  );
  CREATE INDEX entries_expiry ON S.entries (namespace, expires_at) WHERE expires_at IS NOT NULL;

  -- The version floor: the highest version any entry of the namespace had when it left.
  CREATE TABLE S.namespaces (namespace text COLLATE "C" PRIMARY KEY, version_floor bigint NOT NULL);
  CREATE FUNCTION S.raise_version_floor() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO S.namespaces AS n (namespace, version_floor) VALUES (OLD.namespace, OLD.version)
    ON CONFLICT (namespace) DO UPDATE SET version_floor = greatest(n.version_floor, EXCLUDED.version_floor);
    RETURN NULL;
  END $$;
  -- Every way a row leaves (delete, expiry sweep, a transaction's delete, repair, any other tool's DELETE).
  CREATE TRIGGER entries_version_floor AFTER DELETE ON S.entries FOR EACH ROW EXECUTE FUNCTION S.raise_version_floor();

  CREATE TABLE S.locks (
    namespace  text COLLATE "C" NOT NULL,
    resource   text COLLATE "C" NOT NULL,
    owner      text   NOT NULL,
    token      bigint NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (namespace, resource)
  );
  -- The last fencing token per resource; never reset, so tokens only grow.
  CREATE TABLE S.fencing (
    namespace  text COLLATE "C" NOT NULL,
    resource   text COLLATE "C" NOT NULL,
    last_token bigint NOT NULL,
    PRIMARY KEY (namespace, resource)
  );

  -- Native queues. state: 0 waiting, 1 delayed (due_at = visible at), 2 in flight (due_at = lease
  -- end), 3 dead. The job id is its sequence.
  CREATE TABLE S.queues (
    namespace text COLLATE "C" NOT NULL,
    queue     text COLLATE "C" NOT NULL,
    last_seq  bigint NOT NULL,
    PRIMARY KEY (namespace, queue)
  );
  CREATE TABLE S.queue_jobs (
    namespace   text COLLATE "C" NOT NULL,
    queue       text COLLATE "C" NOT NULL,
    seq         bigint   NOT NULL,
    state       smallint NOT NULL,
    priority    integer  NOT NULL,
    due_at      bigint,
    lease_id    text,
    attempts    integer  NOT NULL,
    enqueued_at bigint   NOT NULL,
    payload     text     NOT NULL,
    PRIMARY KEY (namespace, queue, seq)
  );
  CREATE INDEX queue_ready ON S.queue_jobs (namespace, queue, priority DESC, seq) WHERE state = 0;
  CREATE INDEX queue_timed ON S.queue_jobs (namespace, queue, due_at) WHERE state IN (1, 2);
  CREATE INDEX queue_dead ON S.queue_jobs (namespace, queue, seq) WHERE state = 3;

  -- Native logs: the log row keeps the last seq across trims (the append's counter), the time of
  -- the last append (at never goes backwards within a log) and the age retention asked for.
  CREATE TABLE S.logs (
    namespace  text COLLATE "C" NOT NULL,
    log        text COLLATE "C" NOT NULL,
    last_seq   bigint NOT NULL,
    last_at    bigint NOT NULL,
    max_age_ms bigint,
    PRIMARY KEY (namespace, log)
  );
  CREATE TABLE S.log_records (
    namespace text COLLATE "C" NOT NULL,
    log       text COLLATE "C" NOT NULL,
    seq       bigint NOT NULL,
    at        bigint NOT NULL,
    json      text   NOT NULL,
    PRIMARY KEY (namespace, log, seq)
  );
  CREATE INDEX log_records_at ON S.log_records (namespace, log, at);
  `,
  // 2: a lease row says whether anyone waits for it. A tryLock that finds the lease taken marks
  // it; the release's DELETE reads the mark and NOTIFYs the lock topic only when it is set, so a
  // release nobody waits on sends no NOTIFY (which every LISTENing session of the database would
  // be signalled for). A new lease starts unmarked; a waiter still waiting marks it on its next try.
  `
  ALTER TABLE S.locks ADD COLUMN waiting boolean NOT NULL DEFAULT false;
  `,
  // 3: the claim's first waiting job, found through queue_ready whatever the statistics say. The
  // planner may otherwise walk the primary key and sort: a table never analyzed since a burst of
  // enqueues (autovacuum off, or not round yet) looks like one row per queue to it, and the two
  // paths then cost about the same; measured, the primary-key plan read all 10,000 jobs of a
  // backlog per claim (8 ms instead of 0.2). With sorting off for this one query, the only plan
  // left that needs no sort is the index whose order is the claim's.
  `
  CREATE FUNCTION S.first_ready(ns text, q text) RETURNS TABLE (job_seq bigint, job_priority integer)
    LANGUAGE sql VOLATILE SET enable_sort = off
    AS $$ SELECT seq, priority FROM S.queue_jobs WHERE namespace = ns AND queue = q AND state = 0
          ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED $$;
  `,
];

/** The format this package writes. */
export const FORMAT_VERSION = MIGRATIONS.length;

/** Replaces the `S.` placeholder with the quoted schema. */
export function inSchema(sql: string, schema: string): string {
  return sql.replace(/\bS\./g, `"${schema}".`);
}

/**
 * Creates or upgrades the store inside the caller's transaction; throws INVALID_CONFIG for a
 * format newer than {@link FORMAT_VERSION}. `lockKey` is the advisory lock that serializes it.
 */
export async function migrate(query: Query, schema: string, target: string): Promise<number> {
  await query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`agent-state:migrate:${schema}`]);
  const exists = await query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [`"${schema}".meta`]);
  let current = 0;
  if (exists[0]!.found) {
    const rows = await query<{ value: string }>(inSchema(`SELECT value FROM S.meta WHERE name = 'format'`, schema));
    current = rows.length === 0 ? 0 : Number(rows[0]!.value);
  } else {
    await query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  }
  if (!Number.isInteger(current) || current > FORMAT_VERSION) {
    throw new InvalidConfigError(
      target,
      'communication.settings.postgres_schema',
      `the store has format version ${String(current)}, newer than this @agent-state/backend-postgres understands (${FORMAT_VERSION}); upgrade the package`,
    );
  }
  if (current === FORMAT_VERSION) return current;
  for (let v = current; v < FORMAT_VERSION; v++) await query(inSchema(MIGRATIONS[v]!, schema));
  await query(inSchema(`INSERT INTO S.meta (name, value) VALUES ('format', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, schema), [
    String(FORMAT_VERSION),
  ]);
  return current;
}
