/**
 * `storageCount`: how much a namespace holds, as a count (for retention tests and the
 * contract's `storageCount()` hook): every string key counts 1, every hash field, sorted-set
 * member, list item, set member and stream entry counts 1. Two exceptions: the namespace's
 * `meta` hash counts 1 whatever its fields (format, floor, sweep clock: constant per
 * namespace), and an empty stream (a log trimmed to nothing, kept so its last seq survives)
 * counts 0: it holds no record.
 */
import { loadDriver } from './connection.js';
import { DEFAULT_KEY_PREFIX, KeyLayout } from './layout.js';

export interface StorageCountOptions {
  /** The server (`redis://…`); default `redis://127.0.0.1:6379`. */
  url?: string;
  namespace: string;
  /** `redis_key_prefix`; default `agent-state`. */
  keyPrefix?: string;
}

/** Counts every key, field, member and stream entry of a namespace (SCAN, never KEYS). */
export async function storageCount(options: StorageCountOptions): Promise<number> {
  const layout = new KeyLayout(options.keyPrefix ?? DEFAULT_KEY_PREFIX, options.namespace);
  const { Redis } = await loadDriver();
  const client = new Redis(options.url ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', layout.pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        if (type === 'string' || key === layout.meta) total += 1;
        else if (type === 'hash') total += await client.hlen(key);
        else if (type === 'zset') total += await client.zcard(key);
        else if (type === 'stream') total += await client.xlen(key);
        else if (type === 'list') total += await client.llen(key);
        else if (type === 'set') total += await client.scard(key);
      }
    } while (cursor !== '0');
    return total;
  } finally {
    client.disconnect();
  }
}
