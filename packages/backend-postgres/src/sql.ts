/**
 * The SQL of one schema, built once per client. `S.` is the quoted schema; `$n` parameters are
 * listed above each statement.
 */
import { inSchema } from './layout.js';

const LIVE = '(expires_at IS NULL OR expires_at > S.now_ms())';
const ENTRY = 'key, value, checksum, version, updated_at, expires_at';

const RAW = {
  /** ($1 ns, $2 keys[]) → live entry rows. */
  readMany: `SELECT ${ENTRY} FROM S.entries WHERE namespace = $1 AND key = ANY($2::text[]) AND ${LIVE}`,
  /** ($1 ns, $2 key) → the live entry row. */
  read: `SELECT ${ENTRY} FROM S.entries WHERE namespace = $1 AND key = $2 AND ${LIVE}`,
  /** ($1 ns, $2 after, $3 low, $4 high, $5 limit) → live rows in key order. */
  list: `SELECT ${ENTRY} FROM S.entries WHERE namespace = $1 AND key > $2 AND key >= $3 AND key < $4 AND ${LIVE} ORDER BY key LIMIT $5`,
  /**
   * ($1 lock names[]) → now, in ms. Takes the transaction-level advisory lock of every name in
   * hash order (no deadlock between transactions that lock several keys), then reads the clock.
   */
  lockNames: `SELECT (SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS s) AS locked, S.now_ms() AS now`,
  /** () → now. */
  now: `SELECT S.now_ms() AS now`,
  /**
   * ($1 ns, $2 keys[]) → one row per key: the stored row (live or not; NULL columns when there is
   * none), locked for update, and the namespace's version floor.
   */
  rowsForUpdate: `SELECT u.k AS key, e.value, e.checksum, e.version, e.updated_at, e.expires_at,
      coalesce((SELECT version_floor FROM S.namespaces WHERE namespace = $1), 0) AS floor
    FROM unnest($2::text[]) AS u(k)
    LEFT JOIN LATERAL (SELECT value, checksum, version, updated_at, expires_at FROM S.entries WHERE namespace = $1 AND key = u.k FOR UPDATE) AS e ON true`,
  /** ($1 ns, $2 key, $3 value, $4 checksum, $5 version, $6 now, $7 expiresAt). */
  put: `INSERT INTO S.entries (namespace, key, value, checksum, version, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, checksum = EXCLUDED.checksum, version = EXCLUDED.version,
          updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at`,
  /**
   * ($1 ns, $2 key, $3 value, $4 checksum, $5 ttlMs | null, $6 channel, $7 payload, $8 lock name) → version,
   * updated_at: a plain write as one statement. Creates above the version floor or overwrites an
   * intact row (or an expired one); a live row whose checksum is missing or wrong is left alone
   * and no row comes back (the caller then takes the checked path, which names the damage).
   * $8 is the key's advisory-lock name: taken before the row is inserted, so a commit that saw
   * the key absent (and holds that lock) is never overtaken by a concurrent create.
   */
  upsertFast: `WITH t AS (SELECT S.now_ms() AS now FROM (SELECT pg_advisory_xact_lock(hashtextextended($8, 0))) AS l),
      w AS (
        INSERT INTO S.entries AS e (namespace, key, value, checksum, version, updated_at, expires_at)
        SELECT $1, $2, $3, $4, coalesce((SELECT version_floor FROM S.namespaces WHERE namespace = $1), 0) + 1, t.now,
               CASE WHEN $5::bigint IS NULL THEN NULL ELSE t.now + $5::bigint END FROM t
        ON CONFLICT (namespace, key) DO UPDATE SET
          value = EXCLUDED.value, checksum = EXCLUDED.checksum, updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at,
          version = CASE WHEN e.expires_at IS NULL OR e.expires_at > EXCLUDED.updated_at THEN e.version + 1
                         ELSE greatest(e.version + 1, EXCLUDED.version) END
        WHERE (e.expires_at IS NOT NULL AND e.expires_at <= EXCLUDED.updated_at) OR (e.checksum IS NOT NULL AND md5(e.value) = e.checksum)
        RETURNING e.version, e.updated_at, e.expires_at)
    SELECT w.version, w.updated_at, w.expires_at, pg_notify($6, $7)::text AS n FROM w`,
  /**
   * ($1 ns, $2 key, $3 value, $4 checksum, $5 ttlMs | null, $6 expected version, $7 channel,
   * $8 payload) → version, updated_at, expires_at: a compare-and-set as one statement, only over
   * a live intact row of that version (otherwise no row; the checked path says why).
   */
  updateIfVersion: `WITH t AS (SELECT S.now_ms() AS now),
      w AS (
        UPDATE S.entries AS e SET value = $3, checksum = $4, version = e.version + 1, updated_at = t.now,
          expires_at = CASE WHEN $5::bigint IS NULL THEN NULL ELSE t.now + $5::bigint END
        FROM t
        WHERE e.namespace = $1 AND e.key = $2 AND e.version = $6 AND (e.expires_at IS NULL OR e.expires_at > t.now)
          AND e.checksum IS NOT NULL AND md5(e.value) = e.checksum
        RETURNING e.version, e.updated_at, e.expires_at)
    SELECT w.version, w.updated_at, w.expires_at, pg_notify($7, $8)::text AS n FROM w`,
  /** ($1 ns, $2 key): removes the row whatever it holds. */
  remove: `DELETE FROM S.entries WHERE namespace = $1 AND key = $2`,
  /** ($1 ns, $2 limit) → removes up to `limit` expired entries and every expired lock row. */
  sweep: `WITH x AS (DELETE FROM S.entries WHERE (namespace, key) IN (
            SELECT namespace, key FROM S.entries WHERE namespace = $1 AND expires_at IS NOT NULL AND expires_at <= S.now_ms() LIMIT $2)
          RETURNING 1)
          SELECT (SELECT count(*) FROM x) AS entries`,
  sweepLocks: `DELETE FROM S.locks WHERE namespace = $1 AND expires_at <= S.now_ms()`,
  /** ($1 channel, $2 payload). */
  notify: `SELECT pg_notify($1, $2)::text AS n`,

  /** ($1 ns, $2 resource) → the lock row (live or not), share-locked. */
  lockRowShare: `SELECT owner, token, expires_at FROM S.locks WHERE namespace = $1 AND resource = $2 FOR SHARE`,
  /** ($1 ns, $2 resource) → the lock row (live or not), locked for update. */
  lockRowUpdate: `SELECT owner, token, expires_at, waiting FROM S.locks WHERE namespace = $1 AND resource = $2 FOR UPDATE`,
  /** ($1 ns, $2 resource): marks the lease as waited for (a tryLock found it taken). */
  markWaiting: `UPDATE S.locks SET waiting = true WHERE namespace = $1 AND resource = $2`,
  /** ($1 ns, $2 resource) → the next fencing token (the counter is bumped and kept). */
  nextToken: `INSERT INTO S.fencing AS f (namespace, resource, last_token) VALUES ($1, $2, 1)
              ON CONFLICT (namespace, resource) DO UPDATE SET last_token = f.last_token + 1 RETURNING last_token`,
  /** ($1 ns, $2 resource, $3 owner, $4 token, $5 expiresAt). */
  putLock: `INSERT INTO S.locks (namespace, resource, owner, token, expires_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (namespace, resource) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at, waiting = false`,
  /** ($1 ns, $2 resource, $3 owner, $4 token, $5 ttlMs) → expires_at when the live lease was extended. */
  extendLock: `UPDATE S.locks SET expires_at = S.now_ms() + $5 WHERE namespace = $1 AND resource = $2 AND owner = $3 AND token = $4 AND expires_at > S.now_ms()
               RETURNING expires_at`,
  /**
   * ($1 ns, $2 resource, $3 owner, $4 token, $5 channel, $6 payload) → a row when the live lease
   * was deleted; NOTIFYs the lock topic in the same statement when a tryLock found the lease taken.
   */
  releaseLock: `WITH d AS (DELETE FROM S.locks WHERE namespace = $1 AND resource = $2 AND owner = $3 AND token = $4 AND expires_at > S.now_ms() RETURNING waiting)
    SELECT 1 AS done, CASE WHEN d.waiting THEN pg_notify($5, $6)::text END AS n FROM d`,
  /** ($1 ns, $2 resource) → the lock row and now (for the LockLostError's reason). */
  readLock: `SELECT owner, token, expires_at, S.now_ms() AS now FROM S.locks WHERE namespace = $1 AND resource = $2`,
  listLocks: `SELECT resource, owner, token, expires_at FROM S.locks WHERE namespace = $1 AND expires_at > S.now_ms()`,
};

export type Sql = typeof RAW;

export function sqlFor(schema: string): Sql {
  return Object.fromEntries(Object.entries(RAW).map(([name, text]) => [name, inSchema(text, schema)])) as Sql;
}
