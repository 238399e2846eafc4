/**
 * Libraries a user might pick instead of agent-state: Keyv (@keyv/sqlite, @keyv/redis),
 * unstorage (fs and redis drivers), proper-lockfile and redlock, each with its defaults
 * unless a contended run needs waiting.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreRef, Subject, SubjectSpec } from './types.js';
import { redisClient } from './raw-redis.js';

const PAIR_WORKLOADS = ['seed', 'seed-32', 'ycsb-a', 'ycsb-b', 'ycsb-c', 'write'] as const;

export const keyvSqlite: SubjectSpec = {
  id: 'keyv-sqlite',
  kind: 'peer',
  label: 'Keyv + @keyv/sqlite (defaults)',
  capabilities: ['read', 'write'],
  only: PAIR_WORKLOADS,
  async open(store: StoreRef): Promise<Subject> {
    const { default: Keyv } = await import('keyv');
    const { default: KeyvSqlite } = await import('@keyv/sqlite');
    const keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${join(store.root, 'keyv.db')}` }) });
    return {
      read: (key) => keyv.get(key),
      write: async (key, value) => {
        await keyv.set(key, value);
      },
      close: () => keyv.disconnect(),
    };
  },
};

export const keyvRedis: SubjectSpec = {
  id: 'keyv-redis',
  kind: 'peer',
  label: 'Keyv + @keyv/redis (defaults)',
  capabilities: ['read', 'write'],
  only: PAIR_WORKLOADS,
  async open(store: StoreRef): Promise<Subject> {
    const { default: Keyv } = await import('keyv');
    const { default: KeyvRedis } = await import('@keyv/redis');
    const keyv = new Keyv({ store: new KeyvRedis(store.redisUrl ?? 'redis://127.0.0.1:6379'), namespace: `${store.namespace}-keyv` });
    return {
      read: (key) => keyv.get(key),
      write: async (key, value) => {
        await keyv.set(key, value);
      },
      close: () => keyv.disconnect(),
    };
  },
};

export const unstorageFs: SubjectSpec = {
  id: 'unstorage-fs',
  kind: 'peer',
  label: 'unstorage fs driver (setItem/getItem)',
  capabilities: ['read', 'write'],
  only: PAIR_WORKLOADS,
  async open(store: StoreRef): Promise<Subject> {
    const { createStorage } = await import('unstorage');
    const { default: fsDriver } = await import('unstorage/drivers/fs');
    const storage = createStorage({ driver: fsDriver({ base: join(store.root, 'unstorage') }) });
    return {
      read: (key) => storage.getItem(key),
      write: (key, value) => storage.setItem(key, value as never),
      close: () => storage.dispose(),
    };
  },
};

export const unstorageRedis: SubjectSpec = {
  id: 'unstorage-redis',
  kind: 'peer',
  label: 'unstorage redis driver (setItem/getItem)',
  capabilities: ['read', 'write'],
  only: PAIR_WORKLOADS,
  async open(store: StoreRef): Promise<Subject> {
    const { createStorage } = await import('unstorage');
    const { default: redisDriver } = await import('unstorage/drivers/redis');
    const storage = createStorage({
      driver: redisDriver({ url: store.redisUrl ?? 'redis://127.0.0.1:6379', base: `${store.namespace}-unstorage` }),
    });
    return {
      read: (key) => storage.getItem(key),
      write: (key, value) => storage.setItem(key, value as never),
      close: () => storage.dispose(),
    };
  },
};

export const properLockfile: SubjectSpec = {
  id: 'proper-lockfile',
  kind: 'peer',
  label: 'proper-lockfile lock+release (defaults; retries when contended)',
  capabilities: ['lockCycle'],
  async open(store: StoreRef): Promise<Subject> {
    const { default: lockfile } = await import('proper-lockfile');
    const dir = join(store.root, 'proper-lockfile');
    mkdirSync(dir, { recursive: true });
    return {
      lockCycle: async (resource, options) => {
        const file = join(dir, resource.replaceAll('/', '~'));
        writeFileSync(file, '', { flag: 'a' });
        const release = await lockfile.lock(
          file,
          options.wait ? { retries: { retries: 10_000, minTimeout: 1, maxTimeout: 20, randomize: true } } : {},
        );
        await release();
      },
      close: async () => undefined,
    };
  },
};

type RedlockClass = new (
  clients: unknown[],
  settings: { retryCount: number; retryDelay?: number; retryJitter?: number },
) => { acquire(resources: string[], ttlMs: number): Promise<{ release(): Promise<unknown> }> };

export const redlock: SubjectSpec = {
  id: 'redlock',
  kind: 'peer',
  label: 'redlock 5 acquire+release (one node; retries when contended)',
  capabilities: ['lockCycle'],
  async open(store: StoreRef): Promise<Subject> {
    // redlock 5 beta ships types its "exports" map does not point at; this is the part we use.
    const { default: Redlock } = (await import('redlock' as string)) as { default: RedlockClass };
    const client = redisClient(store);
    const uncontended = new Redlock([client], { retryCount: 0 });
    const contended = new Redlock([client], { retryCount: 100_000, retryDelay: 5, retryJitter: 5 });
    return {
      lockCycle: async (resource, options) => {
        const lock = await (options.wait ? contended : uncontended).acquire([`${store.namespace}:redlock:${resource}`], 10_000);
        await lock.release();
      },
      close: async () => {
        client.disconnect();
      },
    };
  },
};
