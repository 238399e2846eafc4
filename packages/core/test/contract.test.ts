import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { runContractSuite } from '../src/contract/index.js';
import { memoryStoreCount } from '../src/memory/memory-backend.js';

// The memory backend is single-process: the suite skips the multi-process and crash groups.
// It has no native coordination, so this run is the portable path.
runContractSuite(
  { describe, it },
  {
    name: 'memory',
    multiProcess: false,
    crashSafe: false,
    config: () => ({ backend: 'memory', namespace: `t-${randomUUID()}` }),
    storageCount: async (config) => memoryStoreCount(String(config.namespace)),
  },
);
