import { describe, expect, it } from 'vitest';
import { entryName, keyOfEntryName } from '../src/key-names.js';
import { childName, escapeName, keyOfChild, unescapeName } from '../src/layout.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-:@+=,/';

describe('key to database path mapping', () => {
  it('is reversible for every character a key may hold', () => {
    for (const key of [ALPHABET, 'a.b/c..d', '...', 'x/y/z', '0', '@q/jobs/j/1', 'a,b=c+d:e']) {
      expect(unescapeName(escapeName(key))).toBe(key);
      expect(keyOfChild(childName(key))).toBe(key);
    }
  });

  it('never produces a character the database forbids in a name, nor a longer name', () => {
    for (const key of [ALPHABET, 'a.b/c', '.x./.y.']) {
      const name = childName(key);
      // eslint-disable-next-line no-control-regex -- the characters a Realtime Database name may not hold, control characters included
      expect(name).not.toMatch(/[.#$[\]/\u0000-\u001f\u007f]/);
      expect(name.length).toBe(key.length + 1);
    }
  });

  it('never produces a name the database would read as an array index', () => {
    for (const key of ['0', '1', '42', '-1', '2147483647']) expect(childName(key)).not.toMatch(/^-?\d+$/);
  });

  it('ignores child names that are not ours', () => {
    expect(keyOfChild('plain')).toBeUndefined();
  });
});

describe('entry names (key-names.ts)', () => {
  const keys = ['0', '1', '10', '2', 'a', 'a+b', 'a,b', 'a-b', 'a.b', 'a/b', 'a0', 'a:b', 'a=b', 'a@b', 'aA', 'a_b', 'ab', 'a', 'a/', '@q', ALPHABET, '+', ',', '-', '.', '/'];

  it('keep the code-unit order of the keys, prefixes included', () => {
    const byKey = [...new Set(keys)].sort();
    const byName = [...new Set(keys)].sort((x, y) => (entryName(x) < entryName(y) ? -1 : entryName(x) > entryName(y) ? 1 : 0));
    expect(byName).toEqual(byKey);
  });

  it('are reversible, legal, one character per key character and never integers', () => {
    for (const key of keys) {
      const name = entryName(key);
      expect(keyOfEntryName(name)).toBe(key);
      // eslint-disable-next-line no-control-regex -- the characters a Realtime Database name may not hold
      expect(name).not.toMatch(/[.#$[\]/\u0000-\u001f\u007f]/);
      expect(name.length).toBe(key.length + 1);
      expect(name).not.toMatch(/^-?\d+$/);
    }
    expect(keyOfEntryName('plain')).toBeUndefined();
  });
});
