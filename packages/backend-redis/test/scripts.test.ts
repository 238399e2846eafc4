import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { expandIncludes } from '../src/scripts.js';

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

  it('shared Lua (lib/) is spliced in whole: every include resolves, none reaches the server, each lib function is used', () => {
    const lib = readdirSync(new URL('lib/', LUA_DIR)).filter((f) => f.endsWith('.lua'));
    assert.ok(lib.length >= 2);
    const read = (path: string): string => readFileSync(new URL(path, LUA_DIR), 'utf8');
    const expanded = files.map((file) => expandIncludes(read(file), read));
    for (const [i, text] of expanded.entries()) {
      assert.ok(!/^--@include/m.test(text), `${files[i]} has no include left once loaded`);
    }
    for (const file of lib) {
      const names = [...read(`lib/${file}`).matchAll(/^local function ([A-Za-z]+)/gm)].map((m) => m[1]!);
      assert.ok(names.length > 0, `lib/${file} defines functions`);
      for (const name of names) {
        const users = files.filter((f) => read(f).includes(`${name}(`));
        assert.ok(users.length > 0, `lib/${file}: ${name} is used by a script`);
        for (const user of users) assert.ok(read(user).includes(`--@include lib/${file}`), `${user} includes lib/${file} for ${name}`);
      }
    }
  });
});
