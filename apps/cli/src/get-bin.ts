#!/usr/bin/env node
/**
 * The `agent-state` executable as the bundle builds it (scripts/bundle.mjs): one file, so the call
 * scripts make most, `get`, loads no other module of ours (each module Node loads costs a
 * resolve, a realpath and a compile); a backend's driver is loaded by the backend's own dynamic
 * `import()` when it connects. This file holds the get fast path (fast-path.ts), core and the
 * backends listed in bin-backends.ts; any other command line, or a `get` on another backend, runs
 * the full program, `./full.js` (bin.ts, split into chunks), which parses it again.
 */
import { BIN_BACKENDS } from './bin-backends.js';
import { configuredShortName } from './context.js';
import { parseFastGet } from './fast-path.js';
import { processContext } from './context.js';
import { run } from './run.js';

/** The full program, next to this file in dist/ (not a static import: it is another bundle). */
const FULL = new URL('./full.js', import.meta.url).href;

const parsed = parseFastGet(process.argv);
const ctx = parsed && processContext(parsed.config);
// A config that does not load is reported by the full program, like any other error.
const short = ctx && (await configuredShortName(ctx).catch(() => undefined));
if (ctx !== undefined && short !== undefined && BIN_BACKENDS.includes(short)) void run(async () => (await import('./commands/get/index.js')).get(ctx, parsed!.key, parsed!.options));
else await import(FULL);
