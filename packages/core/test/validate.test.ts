import { describe, expect, it } from 'vitest';
import { InvalidKeyError, InvalidValueError, assertPrefix, keyProblem, serializeValue } from '../src/index.js';

describe('key grammar', () => {
  it('accepts every allowed character and the maximum lengths', () => {
    for (const key of ['a', 'A-Z.a_z:0@9+=,', 'tasks/42/status', '..a/b..', `${'x'.repeat(128)}/y`, `${'a/'.repeat(255)}ab`]) {
      expect(keyProblem(key), key).toBeNull();
    }
    expect(`${'a/'.repeat(255)}ab`.length).toBe(512);
  });

  it('rejects what the spec rejects, with a reason', () => {
    const cases: [unknown, RegExp][] = [
      ['', /non-empty/],
      ['a'.repeat(513), /at most 512/],
      ['/a', /start or end/],
      ['a/', /start or end/],
      ['a//b', /"\/\/"/],
      ['a/./b', /"\." or "\.\."/],
      ['..', /"\." or "\.\."/],
      ['a*b', /may only hold/],
      [`${'x'.repeat(129)}`, /at most 128/],
      [7, /string/],
    ];
    for (const [key, reason] of cases) expect(keyProblem(key), String(key)).toMatch(reason);
  });

  it('gives the same verdict on the fast path as segment by segment, at every edge of the grammar', () => {
    const valid = ['.a', 'a.', '...', 'a/.../b', '.a/..b/c.', `${'s'.repeat(128)}/${'t'.repeat(128)}`, `${'a/'.repeat(255)}ab`, '@q/x=1,y+2:z'];
    for (const key of valid) expect(keyProblem(key), key).toBeNull();
    const invalid: [string, RegExp][] = [
      ['.', /"\." or "\.\."/],
      ['a/..', /"\." or "\.\."/],
      ['./a', /"\." or "\.\."/],
      [`a/${'s'.repeat(129)}`, /at most 128/],
      [`${'a/'.repeat(255)}abc`, /at most 512/],
      ['a/b/', /start or end/],
      ['tasks/é', /may only hold/],
      ['a\nb', /may only hold/],
    ];
    for (const [key, reason] of invalid) expect(keyProblem(key), key).toMatch(reason);
  });

  it('accepts the beginning of any valid key as a list prefix', () => {
    for (const prefix of ['', 'tasks/', 'tasks/1', 'tasks/.', 'a']) expect(() => assertPrefix(prefix)).not.toThrow();
    for (const prefix of ['/x', 'a//', 'a b']) expect(() => assertPrefix(prefix)).toThrow(InvalidKeyError);
  });
});

describe('values', () => {
  it('serializes JSON values and measures them in UTF-8 bytes', () => {
    expect(serializeValue({ a: [1, 'é'] }, 100)).toBe('{"a":[1,"é"]}');
    expect(() => serializeValue('é'.repeat(10), 21)).toThrow(InvalidValueError);
    expect(serializeValue('é'.repeat(10), 22)).toBe(JSON.stringify('é'.repeat(10)));
  });

  it('refuses what JSON cannot round-trip whether the cheap check or the naming walk finds it', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    expect(serializeValue(deep, 10_000)).toBe(JSON.stringify(deep));
    for (const [value, reason] of [
      [cyclic, /value\.self: expected a value without cycles/],
      [sparse, /value\[1\]: expected no holes/],
      [{ a: undefined }, /value\.a: expected a JSON value/],
      [{ [Symbol('s')]: 1 }, /expected no symbol keys/],
      [{ n: Infinity }, /value\.n: expected a finite number/],
      [Object.create({ inherited: 1 }), /expected a plain object/],
    ] as [unknown, RegExp][]) {
      expect(() => serializeValue(value, 10_000)).toThrow(reason);
    }
  });

  it('names the path of the offending part of a value', () => {
    expect(() => serializeValue({ items: [1, { n: Number.NaN }] }, 1_000)).toThrow('value.items[1].n: expected a finite number, got NaN');
    expect(() => serializeValue({ when: new Date(0) }, 1_000)).toThrow(/value\.when: expected a plain object/);
  });
});
