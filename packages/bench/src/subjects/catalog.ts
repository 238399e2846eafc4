import { bullmq } from './bullmq.js';
import { ours, oursMetricsOff } from './ours.js';
import { pgBoss } from './pg-boss.js';
import { keyvRedis, keyvSqlite, properLockfile, redlock, unstorageFs, unstorageRedis } from './peers.js';
import { rawFirebase } from './raw-firebase.js';
import { rawPostgres } from './raw-postgres.js';
import { nodeStart, redisCli } from './processes.js';
import { rawFs, rawFsAsync, rawFsDurable } from './raw-fs.js';
import { rawRedis, rawRedisSet } from './raw-redis.js';
import { rawSqlite } from './raw-sqlite.js';
import type { BenchBackend, SubjectSpec } from './types.js';

/** Every subject measured on each backend: ours first, then raw drivers, then peers. */
export const SUBJECTS: Record<BenchBackend, readonly SubjectSpec[]> = {
  file: [ours, oursMetricsOff, rawFs, rawFsAsync, rawFsDurable, nodeStart, unstorageFs, properLockfile],
  sqlite: [ours, oursMetricsOff, rawSqlite, nodeStart, keyvSqlite],
  redis: [ours, rawRedis, rawRedisSet, redisCli, nodeStart, keyvRedis, unstorageRedis, redlock, bullmq],
  postgres: [ours, rawPostgres, nodeStart, pgBoss],
  firebase: [ours, rawFirebase, nodeStart],
  memory: [ours, oursMetricsOff],
};

/** The subject `id` of `backend` (worker processes look subjects up by id). */
export function findSubject(backend: BenchBackend, id: string): SubjectSpec {
  const spec = SUBJECTS[backend].find((s) => s.id === id);
  if (!spec) throw new Error(`no subject ${id} on the ${backend} backend`);
  return spec;
}
