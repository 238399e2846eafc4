/**
 * Test helpers: the Redis under test (REDIS_URL or 127.0.0.1:6379), fresh namespaces, and
 * removing every key a namespace left behind.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { CommunicationConfigInput } from '@agent-state/core';
import { Redis } from 'ioredis';

/** The server the tests use. */
export const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

/** A namespace no other test uses. */
export function freshNamespace(label = 't'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** A `communication` block for a fresh namespace on the test server. */
export function redisConfig(namespace = freshNamespace()): CommunicationConfigInput {
  return { backend: 'redis', namespace, settings: { redis_url: REDIS_URL } };
}

/** Every key of `namespace` under `prefix`, found with SCAN (never KEYS). */
export async function namespaceKeys(client: Redis, namespace: string, prefix = 'agent-state'): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:{${namespace}}:*`, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** Deletes every key of `namespace` (SCAN + UNLINK). */
export async function dropNamespace(namespace: string, prefix = 'agent-state'): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const keys = await namespaceKeys(client, namespace, prefix);
    for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
