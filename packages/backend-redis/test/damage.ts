/** The contract suite's damage hook for Redis: garbage in the entry's value, read back raw. */
import type { CommunicationConfigInput } from '@agent-state/core';
import type { DamageHook } from '@agent-state/contract';
import { Redis } from 'ioredis';
import { REDIS_URL } from './helpers/redis.js';

/** The Redis key that holds entry `key` of the test's namespace (`<ver>:<updated>:<expires>:<digest>:<json>`). */
const entryKey = (config: CommunicationConfigInput, key: string) => `agent-state:{${config.namespace}}:k:${key}`;

async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * Keeps the entry's whole header (version, times and the digest of the old JSON) and replaces
 * the JSON with bytes that are not JSON: the scripts must see the digest no longer matches, a
 * read that the value is not JSON.
 */
export const redisDamage: DamageHook = {
  damage: (config, key) =>
    withRedis(async (redis) => {
      const stored = await redis.get(entryKey(config, key));
      const header = /^(\d+:[^:]*:[^:]*:[0-9a-f]{16}:)/.exec(stored ?? '');
      if (!header) throw new Error(`no format-3 entry string at ${entryKey(config, key)} to damage: ${stored}`);
      await redis.set(entryKey(config, key), `${header[1]}{"torn":\u0000\u00ff`, 'KEEPTTL');
    }),
  stored: (config, key) =>
    withRedis(async (redis) => {
      const [type, value] = [await redis.type(entryKey(config, key)), await redis.getBuffer(entryKey(config, key)).catch(() => null)];
      return type === 'none' ? null : { type, value: value?.toString('hex') };
    }),
};
