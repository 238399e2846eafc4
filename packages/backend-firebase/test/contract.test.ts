import { describe, it } from 'vitest';
import { kit } from './contract-kit.js';
import { freePort } from './emulator.js';
import { freshConfig, removeNamespace, storageCount } from './fixtures.js';

kit.runContractSuite(
  { describe, it },
  {
    name: 'firebase',
    multiProcess: true,
    crashSafe: true,
    config: () => freshConfig(),
    cleanup: (config: { namespace?: string }) => removeNamespace(config.namespace),
    storageCount: (config: { namespace?: string }) => storageCount(config.namespace),
    unavailableConfig: async () => ({
      backend: 'firebase',
      namespace: 'unreachable',
      settings: { emulator_host: `127.0.0.1:${await freePort()}`, project_id: 'agent-state-test', connect_timeout_ms: 1_500 },
    }),
  },
);
