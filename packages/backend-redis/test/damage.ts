/** The contract suite's damage hook for Redis: garbage in the entry's value, read back raw. */
import type { CommunicationConfigInput } from '@agent-state/core';
import type { DamageHook } from '@agent-state/contract';
import { Redis } from 'ioredis';
import { REDIS_URL } from './helpers/redis.js';

/** The Redis key that holds entry `key` of the test's namespace (`<ver>:<updated>:<expires>:<json>`). */
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

/** Keeps the entry's header (version, times) and replaces its JSON with bytes that are not JSON. */
export const redisDamage: DamageHook = {
  damage: (config, key) =>
    withRedis(async (redis) => {
      const stored = await redis.get(entryKey(config, key));
      const header = /^(\d+:[^:]*:[^:]*:)/.exec(stored ?? '');
      if (!header) throw new Error(`no entry string at ${entryKey(config, key)} to damage: ${stored}`);
      await redis.set(entryKey(config, key), `${header[1]}{"torn":\u0000\u00ff`, 'KEEPTTL');
    }),
  stored: (config, key) =>
    withRedis(async (redis) => {
      const [type, value] = [await redis.type(entryKey(config, key)), await redis.getBuffer(entryKey(config, key)).catch(() => null)];
      return type === 'none' ? null : { type, value: value?.toString('hex') };
    }),
};
