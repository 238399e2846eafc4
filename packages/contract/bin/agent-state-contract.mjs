#!/usr/bin/env node
// The `agent-state-contract` executable. Committed (not built) so that npm links it on a fresh
// clone at install time; the program itself is compiled into dist/ by `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('agent-state-contract: not built yet: run `npm run build` in the repository first\n');
  process.exit(70);
}
await import(entry.href);
