import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/contract';
import { freePort } from './emulator.js';
import { firebaseDamage } from './damage.js';
import { freshConfig, removeNamespace, storageCount } from './fixtures.js';

runContractSuite(
  { describe, it },
  {
    name: 'firebase',
    multiProcess: true,
    crashSafe: true,
    config: () => freshConfig(),
    cleanup: (config) => removeNamespace(config.namespace),
    storageCount: (config) => storageCount(config.namespace),
    // A node that is not an entry where the entry was (see damage.ts).
    damage: firebaseDamage,
    unavailableConfig: async () => ({
      backend: 'firebase',
      namespace: 'unreachable',
      settings: { emulator_host: `127.0.0.1:${await freePort()}`, project_id: 'agent-state-test', connect_timeout_ms: 1_500 },
    }),
  },
);
