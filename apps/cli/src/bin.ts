#!/usr/bin/env node
// The `agent-state` executable: everything lives in cli.ts; this file only starts it.
import { main } from './cli.js';

void main(process.argv);
