import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/core/contract';
import { closedPort, dropNamespace, redisConfig } from './helpers/redis.js';

runContractSuite({ describe, it }, {
  name: 'redis',
  multiProcess: true,
  crashSafe: true,
  config: () => redisConfig(),
  cleanup: (config) => dropNamespace(config.namespace!),
  unavailableConfig: async () => ({
    backend: 'redis',
    settings: { redis_host: '127.0.0.1', redis_port: await closedPort(), connect_timeout_ms: 1_000 },
  }),
});
