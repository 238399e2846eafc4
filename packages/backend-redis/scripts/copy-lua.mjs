// Copies src/lua/*.lua to dist/lua/, where the compiled scripts.js loads them from, so the
// published package (files: dist) carries its scripts.
// Scripts no longer in src/lua/ (renamed when their key count changed) are removed first, so a
// stale `write-3.lua` can never shadow `write-4.lua`.
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
