#!/usr/bin/env node
/**
 * The `agent-state` executable as the bundle builds it (scripts/bundle.mjs): one file, so the call
 * scripts make most, `get` on the file backend, loads no other module of ours (each module Node
 * loads costs a resolve, a realpath and a compile). This file holds the get fast path
 * (fast-path.ts), core and the file backend; any other command line, or a `get` on another
 * backend (whose drivers this file does not carry), runs the full program, `./full.js` (bin.ts,
 * split into chunks), which parses it again.
 */
import { configuredShortName } from './context.js';
import { parseFastGet } from './fast-path.js';
import { processContext } from './context.js';
import { run } from './run.js';

/** The full program, next to this file in dist/ (not a static import: it is another bundle). */
const FULL = new URL('./full.js', import.meta.url).href;

const parsed = parseFastGet(process.argv);
const ctx = parsed && processContext(parsed.config);
// A config that does not load is reported by the full program, like any other error.
const here = ctx !== undefined && (await configuredShortName(ctx).catch(() => undefined)) === 'file';
if (here) void run(async () => (await import('./commands/get/index.js')).get(ctx, parsed!.key, parsed!.options));
else await import(FULL);
