import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';

const LUA_DIR = new URL('../src/lua/', import.meta.url);

describe('lua scripts', () => {
  const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));

  it('each script is named <name>-<numberOfKeys>.lua and uses no KEYS beyond that number', () => {
    assert.ok(files.length >= 8);
    for (const file of files) {
      const match = /^[a-z][A-Za-z]*-(\d+|n)\.lua$/.exec(file);
      assert.ok(match, `${file} follows <name>-<numberOfKeys>.lua`);
      if (match[1] === 'n') continue;
      const used = [...readFileSync(new URL(file, LUA_DIR), 'utf8').matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      assert.equal(Math.max(...used), Number(match[1]), `${file} uses KEYS[1..${match[1]}]`);
    }
  });

  it('each script opens with a header documenting KEYS, ARGV and its output', () => {
    for (const file of files) {
      const text = readFileSync(new URL(file, LUA_DIR), 'utf8');
      const header = text.slice(0, text.indexOf(']]'));
      assert.ok(text.startsWith('--[['), `${file} starts with a header comment`);
      for (const word of ['KEYS[1]', 'ARGV', 'Output']) assert.ok(header.includes(word), `${file}'s header documents ${word}`);
    }
  });
});
