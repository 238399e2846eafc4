import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidValueError, openState, type StateClient } from '@agent-state/core';
import { freshDatabasePath, removeDatabase } from './temp.js';

let path: string;
let state: StateClient;
beforeEach(async () => {
  path = freshDatabasePath();
  state = await openState({ config: { backend: 'sqlite', settings: { database_path: path } }, env: {} });
});
afterEach(async () => {
  await state.close();
  removeDatabase(path);
});

describe('native increment', () => {
  it('counts from 0 on an absent key and bumps the version by one per increment', async () => {
    expect(await state.increment('n')).toBe(1);
    expect(await state.increment('n', 41)).toBe(42);
    expect(await state.increment('n', -0.5)).toBe(41.5);
    expect(await state.read('n')).toMatchObject({ value: 41.5, version: 3 });
  });

  it('keeps the TTL of a live key, and restarts an expired key at 0 above its old version', async () => {
    const written = await state.write('t', 10, { ttlMs: 60_000 });
    await state.increment('t');
    expect(await state.read('t')).toMatchObject({ value: 11, version: 2, expiresAt: written.expiresAt });
    await state.write('gone', 100, { ttlMs: 10 });
    await new Promise((r) => setTimeout(r, 30));
    expect(await state.increment('gone', 5)).toBe(5);
    const entry = await state.read('gone');
    expect(entry?.value).toBe(5);
    expect(entry!.version).toBeGreaterThan(1);
    expect(entry?.expiresAt).toBeUndefined();
  });

  it('a key that holds no number (JSON null included) is an InvalidValueError and is left unchanged', async () => {
    await state.write('s', 'text');
    await expect(state.increment('s')).rejects.toBeInstanceOf(InvalidValueError);
    expect(await state.read('s')).toMatchObject({ value: 'text', version: 1 });
    await state.write('z', null);
    await expect(state.increment('z')).rejects.toBeInstanceOf(InvalidValueError);
    expect(await state.read('z')).toMatchObject({ value: null, version: 1 });
  });

  it('an increment that would overflow to Infinity is an InvalidValueError', async () => {
    await state.write('big', Number.MAX_VALUE);
    await expect(state.increment('big', Number.MAX_VALUE)).rejects.toBeInstanceOf(InvalidValueError);
    expect((await state.read('big'))?.value).toBe(Number.MAX_VALUE);
  });
});
