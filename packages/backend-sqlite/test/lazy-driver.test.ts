/**
 * The driver is loaded where a connection is opened, not when the package is imported (the CLI's
 * fast path imports backends without opening them), and the settings half has no runtime imports.
 * Checked in a child process, whose module cache starts empty; built package (dist/).
 */
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { lazyDriverGroup } from '@agent-state/contract';

lazyDriverGroup({ describe, it }, fileURLToPath(new URL('../dist/', import.meta.url)), 'better-sqlite3');
