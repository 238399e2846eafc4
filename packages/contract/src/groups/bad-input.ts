import assert from 'node:assert/strict';
import { InvalidKeyError, InvalidValueError, StateError } from '@agent-state/core';
import type { StateClient } from '@agent-state/core';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

const BAD_KEYS: unknown[] = [
  '',
  '/a',
  'a/',
  'a//b',
  '.',
  'a/..',
  'a b',
  'ü',
  'a\nb',
  'x'.repeat(513),
  `a/${'x'.repeat(129)}`,
  42,
  null,
  undefined,
];

function cyclic(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

const BAD_VALUES: [string, () => unknown][] = [
  ['undefined', () => undefined],
  ['a function', () => () => 1],
  ['a symbol', () => Symbol('s')],
  ['a BigInt', () => 10n],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['a cycle', cyclic],
  ['a Date', () => new Date()],
  ['a Map', () => new Map()],
  ['an object with an undefined property', () => ({ a: undefined })],
  // eslint-disable-next-line no-sparse-arrays -- the hole is the bad input under test
  ['an array with a hole', () => [1, , 3]],
  ['a nested NaN', () => ({ deep: [{ n: Number.NaN }] })],
];

async function assertUntouched(state: StateClient): Promise<void> {
  const keys: string[] = [];
  for await (const e of state.list()) keys.push(e.key);
  assert.deepEqual(keys, ['bad/ok'], 'nothing was written by the bad calls');
  assert.equal((await state.read('bad/ok'))?.value, 'fine', 'the client stays usable');
  await state.write('bad/ok', 'fine');
}

/** Promise 11: bad input is a typed error naming field and value, before any I/O. */
export function badInputGroup(t: TestApi, target: ContractTarget): void {
  t.describe('bad input', () => {
    fixtureTest(t, target, 'an invalid key is an InvalidKeyError naming the key, and nothing is written', async (f) => {
      const state = await f.open();
      await state.write('bad/ok', 'fine');
      for (const key of BAD_KEYS) {
        const check = (e: unknown): boolean => {
          assert.ok(e instanceof InvalidKeyError, `key ${JSON.stringify(key)} gives InvalidKeyError, got ${String(e)}`);
          assert.equal(e.code, 'INVALID_KEY');
          assert.match(e.message, /^key: /);
          return true;
        };
        await assert.rejects(state.write(key as string, 1), check);
        await assert.rejects(state.read(key as string), check);
        await assert.rejects(state.delete(key as string), check);
        await assert.rejects(state.update(key as string, () => 1), check);
        await assert.rejects(state.increment(key as string), check);
      }
      await assert.rejects(state.lock('a//b'), (e: unknown) => e instanceof InvalidKeyError && /^resource: /.test(e.message));
      await assert.rejects(state.readMany(['ok', 'a b']), (e: unknown) => e instanceof InvalidKeyError && /keys\[1\]/.test(e.message));
      await assert.rejects(state.transaction((tx) => tx.write('a//b', 1)), InvalidKeyError);
      await assertUntouched(state);
    });

    fixtureTest(t, target, 'a value JSON cannot round-trip or one over maxValueBytes is an InvalidValueError', async (f) => {
      const state = await f.open();
      await state.write('bad/ok', 'fine');
      for (const [name, make] of BAD_VALUES) {
        await assert.rejects(state.write('bad/v', make() as never), (e: unknown) => {
          assert.ok(e instanceof InvalidValueError, `${name} gives InvalidValueError, got ${String(e)}`);
          assert.equal(e.code, 'INVALID_VALUE');
          assert.match(e.message, /^value/);
          return true;
        });
      }
      const limit = state.config.maxValueBytes;
      await assert.rejects(state.write('bad/v', 'x'.repeat(limit)), (e: unknown) => e instanceof InvalidValueError && /bytes/.test(e.message));
      await assert.rejects(state.transaction((tx) => tx.write('bad/v', Number.NaN)), InvalidValueError);
      await assert.rejects(state.update('bad/v', () => (() => 1) as never), InvalidValueError);
      await assertUntouched(state);
      const max = await state.write('bad/max', 'x'.repeat(limit - 2));
      assert.equal((max.value as string).length, limit - 2, 'a value of exactly maxValueBytes is accepted');
      await state.delete('bad/max');
    });

    fixtureTest(t, target, 'an invalid option is an error naming the option and its value', async (f) => {
      const state = await f.open();
      await state.write('bad/ok', 'fine');
      const cases: [string, () => Promise<unknown>, RegExp][] = [
        ['ttlMs -1', () => state.write('bad/o', 1, { ttlMs: -1 }), /options\.ttlMs/],
        ['ttlMs 0', () => state.write('bad/o', 1, { ttlMs: 0 }), /options\.ttlMs/],
        ['ttlMs string', () => state.write('bad/o', 1, { ttlMs: '5' as never }), /options\.ttlMs.*"5"/],
        ['ifVersion 0', () => state.write('bad/o', 1, { ifVersion: 0 }), /options\.ifVersion/],
        ['ifVersion 1.5', () => state.write('bad/o', 1, { ifVersion: 1.5 }), /options\.ifVersion/],
        ['ifVersion present', () => state.write('bad/o', 1, { ifVersion: 'present' as never }), /options\.ifVersion/],
        ['unknown option', () => state.write('bad/o', 1, { ttl: 5 } as never), /options\.ttl\b/],
        ['fence not a lock', () => state.write('bad/o', 1, { fence: { token: 1 } as never }), /options\.fence/],
        ['lock ttlMs 0', () => state.lock('bad/r', { ttlMs: 0 }), /options\.ttlMs/],
        ['lock waitMs -5', () => state.lock('bad/r', { waitMs: -5 }), /options\.waitMs/],
        ['list limit 0', () => state.list({ limit: 0 }).next(), /options\.limit/],
        ['list prefix', () => state.list({ prefix: 'a//' }).next(), /options\.prefix/],
        ['maxRetries -1', () => state.transaction(() => 1, { maxRetries: -1 }), /options\.maxRetries/],
        ['increment by NaN', () => state.increment('bad/n', Number.NaN), /^by: /],
      ];
      for (const [name, call, pattern] of cases) {
        await assert.rejects(call(), (e: unknown) => {
          assert.ok(e instanceof StateError, `${name}: a StateError, got ${String(e)}`);
          assert.ok(e.code === 'INVALID_VALUE' || e.code === 'INVALID_KEY', `${name}: code ${e.code}`);
          assert.match(e.message, pattern, name);
          return true;
        });
      }
      await assertUntouched(state);
      const lockKeys: string[] = [];
      for await (const e of state.list()) lockKeys.push(e.key);
      assert.deepEqual(lockKeys, ['bad/ok']);
      const lock = await state.lock('bad/r', { waitMs: 0 });
      await lock.release();
    });
  });
}
