// Copies src/lua/*.lua to dist/lua/, where the compiled scripts.js loads them from, so the
// published package (files: dist) carries its scripts.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../src/lua/', import.meta.url);
const to = new URL('../dist/lua/', import.meta.url);
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from)) {
  if (file.endsWith('.lua')) copyFileSync(new URL(file, from), new URL(file, to));
}
