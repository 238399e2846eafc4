import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/contract';
import { storageCounts } from '../src/storage.js';
import { sqliteDamage } from './damage.js';
import { freshDatabasePath, removeDatabase } from './temp.js';

runContractSuite({ describe, it }, {
  name: 'sqlite',
  multiProcess: true,
  crashSafe: true,
  config: () => ({ backend: 'sqlite', namespace: 'ns', settings: { database_path: freshDatabasePath() } }),
  cleanup: (config) => removeDatabase(config.settings!.database_path!),
  // Every row and index member of the test's namespace (see src/storage.ts).
  storageCount: async (config) => storageCounts(config.settings!.database_path!, config.namespace ?? 'ns').total,
  // A path under a regular file can never be created, whoever runs the tests (root included).
  unavailableConfig: () => ({ backend: 'sqlite', settings: { database_path: '/etc/hostname/x.db', connect_timeout_ms: 500 } }),
  // Text that is not JSON in the entry's row (see damage.ts).
  damage: sqliteDamage,
});
