// Copies src/lua/*.lua to dist/lua/, where the compiled scripts.js loads them from, so the
// published package (files: dist) carries its scripts.
// Scripts no longer in src/lua/ (renamed when their key count changed) are removed first, so a
// stale `write-3.lua` can never shadow `write-4.lua`.
// lib/ holds the shared Lua the scripts include.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

const from = new URL('../src/lua/', import.meta.url);
const to = new URL('../dist/lua/', import.meta.url);
mkdirSync(to, { recursive: true });
for (const file of readdirSync(to)) {
  if (file.endsWith('.lua')) rmSync(new URL(file, to));
}
for (const file of readdirSync(from)) {
  if (file.endsWith('.lua')) copyFileSync(new URL(file, from), new URL(file, to));
}
// Shared Lua spliced into the scripts at load time (`--@include lib/<file>.lua`, scripts.ts).
rmSync(new URL('lib/', to), { recursive: true, force: true });
mkdirSync(new URL('lib/', to), { recursive: true });
for (const file of readdirSync(new URL('lib/', from))) {
  if (file.endsWith('.lua')) copyFileSync(new URL(`lib/${file}`, from), new URL(`lib/${file}`, to));
}
