/**
 * The check behind "the driver is loaded where a connection is opened, not when the package is
 * imported" (issue 15: the CLI's one-file fast path carries backends without their drivers):
 * a fresh Node process imports a built module, and reports which files of the driver its CommonJS
 * module cache holds then, and again after `then` ran (the step that should load it). Every
 * first-party driver (better-sqlite3, pg, ioredis) is CommonJS, so however it is reached, the
 * cache lists it once it is loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { TestApi } from './harness.js';

/** What {@link driverFilesLoaded} reports: the driver's files in the child's module cache. */
export interface DriverFiles {
  /** After importing `entry`. */
  before: string[];
  /** After `then` ran as well. */
  after: string[];
}

/**
 * Imports the ES module file `entry` (an absolute path) in a child process, then runs the
 * module code `then` (which may `await`, and sees `entry`'s namespace as `mod`), and lists the
 * cached files whose path matches `driver` at both points. The child's cwd is `entry`'s folder.
 */
export async function driverFilesLoaded(entry: string, driver: RegExp, then = ''): Promise<DriverFiles> {
  const script = `
    import { createRequire } from 'node:module';
    const cache = createRequire(import.meta.url).cache;
    const driverFiles = () => Object.keys(cache).filter((p) => ${driver}.test(p));
    const mod = await import(${JSON.stringify(entry)});
    const before = driverFiles();
    ${then}
    process.stdout.write(JSON.stringify({ before, after: driverFiles() }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: dirname(entry), encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(stdout) as DriverFiles;
}

/**
 * The lazy-driver tests of a backend package whose built `connection.js` exports `loadDriver()`:
 * importing `dist/index.js` loads none of the driver's files and `loadDriver()` does (so the
 * empty list means something), and `dist/settings.js` imports nothing at run time. `dist` is the
 * package's built folder (absolute, ending in `/`); `driver` is the npm name of its driver.
 */
export function lazyDriverGroup(t: TestApi, dist: string, driver: string): void {
  const files = new RegExp(`node_modules[\\\\/]${driver.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\\\/]`);
  t.describe('lazy driver loading', () => {
    t.it(`importing the package loads no ${driver} module; opening a connection does`, async () => {
      const { before, after } = await driverFilesLoaded(`${dist}index.js`, files, `await (await import(${JSON.stringify(`${dist}connection.js`)})).loadDriver();`);
      assert.deepEqual(before, []);
      // The check sees the driver once it is loaded, so an empty list above means something.
      assert.ok(after.length > 0, `loadDriver() loaded no file matching ${files}`);
    });

    t.it('the settings half imports nothing at run time', async () => {
      const { before } = await driverFilesLoaded(`${dist}settings.js`, files);
      assert.deepEqual(before, []);
      assert.doesNotMatch(readFileSync(`${dist}settings.js`, 'utf8'), /^\s*import\b|\bimport\(/m);
    });
  });
}
