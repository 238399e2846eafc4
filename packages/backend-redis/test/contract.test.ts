import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/contract';
import { storageCount } from '../src/index.js';
import { closedPort, dropNamespace, redisConfig, REDIS_URL } from './helpers/redis.js';
import { redisDamage } from './damage.js';

const target = {
  name: 'redis',
  multiProcess: true,
  crashSafe: true,
  config: () => redisConfig(),
  cleanup: (config) => dropNamespace(config.namespace!),
  // Every string key, hash field, sorted-set member and stream entry of the test's namespace.
  storageCount: (config) => storageCount({ url: REDIS_URL, namespace: config.namespace! }),
  // Bytes that are not JSON after the entry's header (see damage.ts).
  damage: redisDamage,
  unavailableConfig: async () => ({
    backend: 'redis',
    settings: { redis_host: '127.0.0.1', redis_port: await closedPort(), connect_timeout_ms: 1_000 },
  }),
} satisfies Parameters<typeof runContractSuite>[1];

runContractSuite({ describe, it }, target);

// Core's portable coordination (queues, logs, mailboxes on plain entries) on Redis too, so the
// path that backends without native families use stays honest here; it caught index members
// that expired keys left behind.
describe('portable coordination', () => {
  const { unavailableConfig: _unused, ...portable } = target;
  runContractSuite({ describe, it }, { ...portable, name: 'redis (portable)' }, { portable: true });
});
