import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/contract';
import { storageCounts } from '../src/storage.js';
import { sqliteDamage } from './damage.js';

// ":memory:" is one database per process, shared by its clients: the suite runs without the
// multi-process and crash groups, each test in its own namespace.
let n = 0;
runContractSuite({ describe, it }, {
  name: 'sqlite :memory:',
  multiProcess: false,
  config: () => ({ backend: 'sqlite', namespace: `t${++n}`, settings: { database_path: ':memory:' } }),
  // Counted on the process's shared connection while the test's clients hold it open.
  storageCount: async (config) => storageCounts(':memory:', config.namespace!).total,
  // Text that is not JSON in the entry's row (see damage.ts).
  damage: sqliteDamage,
});
