/**
 * The driver is loaded where a connection is opened, not when the package is imported (the CLI's
 * fast path imports backends without opening them), and the settings half has no runtime imports.
 * Checked in a child process, whose module cache starts empty; built package (dist/).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { driverFilesLoaded } from '@agent-state/contract';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const DRIVER = /node_modules[\\/]pg[\\/]/;

describe('lazy driver loading', () => {
  it('importing the package loads no pg module; opening a connection does', async () => {
    const { before, after } = await driverFilesLoaded(`${DIST}index.js`, DRIVER, `await (await import(${JSON.stringify(`${DIST}connection.js`)})).loadDriver();`);
    expect(before).toEqual([]);
    // The check sees the driver once it is loaded, so an empty list above means something.
    expect(after.length).toBeGreaterThan(0);
  });

  it('the settings half imports nothing at run time', async () => {
    const { before } = await driverFilesLoaded(`${DIST}settings.js`, DRIVER);
    expect(before).toEqual([]);
    expect(readFileSync(`${DIST}settings.js`, 'utf8')).not.toMatch(/^\s*import\b|\bimport\(/m);
  });
});
