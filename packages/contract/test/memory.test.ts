import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { memoryStoreCount } from '@agent-state/core';
import { runContractSuite } from '../src/index.js';

// The memory backend is single-process: the suite skips the multi-process and crash groups.
// It has no native coordination, so this run is the portable path. (This test lives here, not
// in core: core cannot depend on this package, which depends on core.)
runContractSuite(
  { describe, it },
  {
    name: 'memory',
    multiProcess: false,
    crashSafe: false,
    config: () => ({ backend: 'memory', namespace: `t-${randomUUID()}` }),
    storageCount: async (config) => memoryStoreCount(String(config.namespace)),
    // Memory keeps live objects, no serialised record: nothing there can be damaged.
    damage: false,
  },
);
