import { ours } from './ours.js';
import { keyvRedis, keyvSqlite, properLockfile, redlock, unstorageFs, unstorageRedis } from './peers.js';
import { rawFirebase } from './raw-firebase.js';
import { rawFs, rawFsAsync } from './raw-fs.js';
import { rawRedis, rawRedisSet } from './raw-redis.js';
import { rawSqlite } from './raw-sqlite.js';
import type { BenchBackend, SubjectSpec } from './types.js';

/** Every subject measured on each backend: ours first, then raw drivers, then peers. */
export const SUBJECTS: Record<BenchBackend, readonly SubjectSpec[]> = {
  file: [ours, rawFs, rawFsAsync, unstorageFs, properLockfile],
  sqlite: [ours, rawSqlite, keyvSqlite],
  redis: [ours, rawRedis, rawRedisSet, keyvRedis, unstorageRedis, redlock],
  firebase: [ours, rawFirebase],
  memory: [ours],
};

/** The subject `id` of `backend` (worker processes look subjects up by id). */
export function findSubject(backend: BenchBackend, id: string): SubjectSpec {
  const spec = SUBJECTS[backend].find((s) => s.id === id);
  if (!spec) throw new Error(`no subject ${id} on the ${backend} backend`);
  return spec;
}
