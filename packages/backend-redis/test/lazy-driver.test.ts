import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { driverFilesLoaded } from '@agent-state/contract';
import { dropNamespace, freshNamespace, REDIS_URL } from './helpers/redis.js';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const IOREDIS = /[\\/]ioredis[\\/]/;

describe('the driver is loaded lazily', () => {
  it('importing the package (and its settings half) loads no ioredis module; creating a backend neither; opening one does', async () => {
    const ns = freshNamespace('lazy');
    const settings = await driverFilesLoaded(`${DIST}settings.js`, IOREDIS);
    assert.deepEqual(settings.before, [], 'no ioredis module after importing the settings half');
    // The child imports dist/index.js (the package as a user's process loads it) as `mod`.
    const created = await driverFilesLoaded(`${DIST}index.js`, IOREDIS, `mod.createRedisBackend({ url: ${JSON.stringify(REDIS_URL)} });`);
    const opened = await driverFilesLoaded(
      `${DIST}index.js`,
      IOREDIS,
      `const backend = mod.createRedisBackend({ url: ${JSON.stringify(REDIS_URL)} });
       await backend.init({ namespace: ${JSON.stringify(ns)}, connectTimeoutMs: 10000 });
       await backend.close();`,
    );
    await dropNamespace(ns);
    assert.deepEqual(created.before, [], 'no ioredis module after importing the package');
    assert.deepEqual(created.after, [], 'creating a backend object loads no driver either');
    assert.ok(opened.after.length > 0, 'init loads ioredis (and the check above can see it)');
  });
});
