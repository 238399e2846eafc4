#!/usr/bin/env node
// The `agent-state` executable: a plain `get` runs without loading commander (fast-path.ts);
// everything else is the program in cli.ts. Both exit through run.ts.
import { fastPath } from './fast-path.js';
import { run } from './run.js';

const fast = fastPath(process.argv);
if (fast) void run(fast);
else void (await import('./cli.js')).main(process.argv);
