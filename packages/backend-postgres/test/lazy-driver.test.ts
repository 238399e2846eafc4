/**
 * The driver is loaded where a connection is opened, not when the package is imported (the CLI's
 * fast path imports backends without opening them), and the settings half has no runtime imports.
 * Checked in a child process, whose module cache starts empty; built package (dist/).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const DRIVER = /node_modules[\\/]pg[\\/]/;

/** The driver files in a child's module cache after it imports `first`, then after `then` runs. */
function loadedDriverFiles(first: string, then: string): { before: string[]; after: string[] } {
  const script = `
    import { createRequire } from 'node:module';
    const cache = createRequire(import.meta.url).cache;
    const driverFiles = () => Object.keys(cache).filter((p) => ${DRIVER}.test(p));
    await import(${JSON.stringify(DIST + first)});
    const before = driverFiles();
    ${then}
    process.stdout.write(JSON.stringify({ before, after: driverFiles() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: DIST, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out) as { before: string[]; after: string[] };
}

describe('lazy driver loading', () => {
  it('importing the package loads no pg module; opening a connection does', () => {
    const { before, after } = loadedDriverFiles('index.js', `await (await import(${JSON.stringify(DIST + 'connection.js')})).loadDriver();`);
    expect(before).toEqual([]);
    // The check sees the driver once it is loaded, so an empty list above means something.
    expect(after.length).toBeGreaterThan(0);
  });

  it('the settings half imports nothing at run time', () => {
    const { before } = loadedDriverFiles('settings.js', '');
    expect(before).toEqual([]);
    expect(readFileSync(`${DIST}settings.js`, 'utf8')).not.toMatch(/^\s*import\b|\bimport\(/m);
  });
});
