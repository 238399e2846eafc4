/**
 * Raw `fs` baselines for the file backend: what a careful hand-written store does for one key
 * per file. Sync and async variants; both durable (temp file, fsync, rename, fsync of the dir).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

let tempCounter = 0;
const tempName = (path: string): string => `${path}.${process.pid}.${++tempCounter}.tmp`;

function fileOf(dir: string, key: string): string {
  return join(dir, `${key.replaceAll('/', '~')}.json`);
}

/** temp + fsync + rename + dir fsync with sync calls. */
export function durableWriteSync(dir: string, path: string, text: string): void {
  const temp = tempName(path);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

async function durableWriteAsync(dir: string, path: string, text: string): Promise<void> {
  const temp = tempName(path);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Raw sync `fs`: durable write, `readFileSync` + `JSON.parse`, unlocked read-modify-write. */
export const rawFs: SubjectSpec = {
  id: 'raw',
  kind: 'raw',
  label: 'fs sync: temp+fsync+rename+dir fsync; readFileSync+JSON.parse (rmw unlocked)',
  capabilities: ['read', 'write', 'rmw'],
  async open(store: StoreRef): Promise<Subject> {
    const dir = join(store.root, 'raw-fs');
    mkdirSync(dir, { recursive: true });
    const read = (key: string): unknown => {
      try {
        return JSON.parse(readFileSync(fileOf(dir, key), 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    };
    const write = (key: string, value: unknown): void => durableWriteSync(dir, fileOf(dir, key), JSON.stringify(value));
    return {
      read: async (key) => read(key),
      write: async (key, value) => write(key, value),
      // No lock: the raw sequence a user writes first. It loses updates across processes,
      // which is exactly what agent-state's `update` exists to prevent.
      rmw: async (key, fn) => write(key, fn(read(key))),
      close: async () => undefined,
    };
  },
};

/** Raw async `fs/promises`: the same durable sequence and `readFile` + `JSON.parse`. */
export const rawFsAsync: SubjectSpec = {
  id: 'raw-async',
  kind: 'raw',
  label: 'fs/promises: temp+fsync+rename+dir fsync; readFile+JSON.parse',
  capabilities: ['read', 'write'],
  only: ['write', 'ycsb-c'],
  async open(store: StoreRef): Promise<Subject> {
    const dir = join(store.root, 'raw-fs-async');
    mkdirSync(dir, { recursive: true });
    return {
      read: async (key) => {
        try {
          return JSON.parse(await readFile(fileOf(dir, key), 'utf8'));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw error;
        }
      },
      write: (key, value) => durableWriteAsync(dir, fileOf(dir, key), JSON.stringify(value)),
      close: async () => undefined,
    };
  },
};

/**
 * The yardstick of the file queue (second-wave notes: file queue cycles/s ≥ 0.4× this): one raw
 * durable write of a small job (temp + fsync + rename + dir fsync) per operation.
 */
export const rawFsDurable: SubjectSpec = {
  id: 'raw-durable',
  kind: 'raw',
  label: 'one raw durable write per op (temp+fsync+rename+dir fsync): the file queue yardstick',
  capabilities: ['queueCycle'],
  only: ['queue'],
  async open(store: StoreRef): Promise<Subject> {
    const dir = join(store.root, 'raw-fs-durable');
    mkdirSync(dir, { recursive: true });
    let n = 0;
    return {
      queueCycle: async (name) => durableWriteSync(dir, join(dir, `${name}-${n++ % 64}.json`), JSON.stringify({ at: Date.now() })),
      close: async () => undefined,
    };
  },
};
