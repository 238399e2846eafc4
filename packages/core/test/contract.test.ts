import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { runContractSuite } from '../src/contract/index.js';

// The memory backend is single-process: the suite skips the multi-process and crash groups.
runContractSuite(
  { describe, it },
  {
    name: 'memory',
    multiProcess: false,
    crashSafe: false,
    config: () => ({ backend: 'memory', namespace: `t-${randomUUID()}` }),
  },
);
