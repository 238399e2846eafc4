import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { dropNamespace, freshNamespace, REDIS_URL } from './helpers/redis.js';

const DIST = new URL('../dist/', import.meta.url);

/**
 * Runs an ES module in a fresh Node process: the package is imported there (from dist/, as a
 * user's process would), so nothing this test process loaded counts.
 */
async function child(source: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', source], { timeout: 30_000, cwd: fileURLToPath(DIST) });
  return stdout.trim();
}

// ioredis is CommonJS: however it is reached (import or require), Node's CJS loader evaluates
// it and keeps it in the CJS module cache, so the cache lists it once loaded.
const LOADED = `(await import('node:module')).createRequire(import.meta.url).cache`;
const IOREDIS = `Object.keys(${LOADED}).filter((p) => /[\\\\/]ioredis[\\\\/]/.test(p)).length`;

describe('the driver is loaded lazily', () => {
  it('importing the package (and its settings half) loads no ioredis module; opening a backend does', async () => {
    const ns = freshNamespace('lazy');
    const index = new URL('index.js', DIST).href;
    const settings = new URL('settings.js', DIST).href;
    const out = await child(`
      const pkg = await import(${JSON.stringify(index)});
      await import(${JSON.stringify(settings)});
      const before = ${IOREDIS};
      const backend = pkg.createRedisBackend({ url: ${JSON.stringify(REDIS_URL)} });
      const stillNone = ${IOREDIS};
      await backend.init({ namespace: ${JSON.stringify(ns)}, connectTimeoutMs: 10000 });
      await backend.close();
      console.log(JSON.stringify([before, stillNone, ${IOREDIS}]));
    `);
    await dropNamespace(ns);
    const [before, created, opened] = JSON.parse(out) as [number, number, number];
    assert.equal(before, 0, 'no ioredis module after importing the package');
    assert.equal(created, 0, 'creating a backend object loads no driver either');
    assert.ok(opened > 0, 'init loads ioredis (and the check above can see it)');
  });
});
