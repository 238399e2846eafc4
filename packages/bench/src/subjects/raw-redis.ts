/**
 * Raw ioredis baselines: awaited GET (+ JSON.parse), a Lua version-checked write (EVALSHA via
 * defineCommand), GET + Lua CAS read-modify-write, SET NX PX + Lua compare-and-delete release;
 * and plain SET/GET for the pipelining (32 in flight) comparison.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

/** KEYS: value key, version key. ARGV: expected version ('' = any), value. Returns new version or -1. */
const CAS_WRITE = `
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= v then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], v + 1)
return v + 1`;

/** KEYS: lock key. ARGV: token. Deletes the lock only if the token still holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface RawCommands {
  casWrite(valueKey: string, versionKey: string, expected: string, value: string): Promise<number>;
  releaseLock(key: string, token: string): Promise<number>;
}

/** An ioredis client to the store's server. */
export function redisClient(store: StoreRef): Redis {
  return new Redis(store.redisUrl ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
}

export const rawRedis: SubjectSpec = {
  id: 'raw',
  kind: 'raw',
  label: 'ioredis: GET+parse; Lua version-checked write (EVALSHA); SET NX PX + Lua release',
  capabilities: ['read', 'write', 'rmw', 'lockCycle'],
  async open(store: StoreRef): Promise<Subject> {
    const redis = redisClient(store);
    redis.defineCommand('casWrite', { numberOfKeys: 2, lua: CAS_WRITE });
    redis.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE });
    const cmd = redis as unknown as RawCommands;
    const k = (key: string): string => `${store.namespace}:raw:${key}`;
    const read = async (key: string): Promise<unknown> => {
      const text = await redis.get(k(key));
      return text === null ? undefined : JSON.parse(text);
    };
    return {
      read,
      write: async (key, value) => {
        await cmd.casWrite(k(key), `${k(key)}:v`, '', JSON.stringify(value));
      },
      rmw: async (key, fn) => {
        for (;;) {
          const [text, version] = await redis.mget(k(key), `${k(key)}:v`);
          const next = fn(text === null || text === undefined ? undefined : JSON.parse(text));
          if ((await cmd.casWrite(k(key), `${k(key)}:v`, version ?? '0', JSON.stringify(next))) !== -1) return;
        }
      },
      lockCycle: async (resource, options) => {
        const token = randomUUID();
        const key = k(`lock:${resource}`);
        while ((await redis.set(key, token, 'PX', 10_000, 'NX')) !== 'OK') {
          if (!options.wait) throw new Error(`raw redis lock ${resource} is busy`);
          await sleep(1 + Math.random() * 4);
        }
        await cmd.releaseLock(key, token);
      },
      close: async () => {
        redis.disconnect();
      },
    };
  },
};

export const rawRedisSet: SubjectSpec = {
  id: 'raw-set',
  kind: 'raw',
  label: 'ioredis: plain SET / GET+parse (no versions)',
  capabilities: ['read', 'write'],
  only: ['seed', 'seed-32'],
  async open(store: StoreRef): Promise<Subject> {
    const redis = redisClient(store);
    const k = (key: string): string => `${store.namespace}:rawset:${key}`;
    return {
      read: async (key) => {
        const text = await redis.get(k(key));
        return text === null ? undefined : JSON.parse(text);
      },
      write: async (key, value) => {
        await redis.set(k(key), JSON.stringify(value));
      },
      close: async () => {
        redis.disconnect();
      },
    };
  },
};
