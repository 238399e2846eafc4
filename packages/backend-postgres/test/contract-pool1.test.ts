import { afterAll, describe, it } from 'vitest';
import type { CommunicationConfigInput } from '@agent-state/core';
import { runContractSuite } from '@agent-state/contract';
import { dropNamespace, storageCounts } from '../src/storage.js';
import { postgresDamage } from './damage.js';
import { RUN_SCHEMA, TEST_URL, closedPort, dropRunSchema, freshNamespace, requireServer } from './pg-helpers.js';

const up = await requireServer();
const port = await closedPort();

if (!up) {
  it.skip(`PostgreSQL contract suite: no server at ${TEST_URL}`, () => undefined);
} else {
  afterAll(() => dropRunSchema());
  runContractSuite({ describe, it }, {
    name: 'postgres (postgres_pool_size 1: the LISTEN on the pool\'s one connection)',
    multiProcess: true,
    crashSafe: true,
    config: (): CommunicationConfigInput => ({ backend: 'postgres', namespace: freshNamespace(), settings: { postgres_url: TEST_URL, postgres_schema: RUN_SCHEMA, postgres_pool_size: 1 } }),
    cleanup: (config: CommunicationConfigInput) => dropNamespace({ url: TEST_URL, schema: RUN_SCHEMA }, config.namespace!),
    // Every row of the test's namespace in every table (see src/storage.ts).
    storageCount: async (config: CommunicationConfigInput) => (await storageCounts({ url: TEST_URL, schema: RUN_SCHEMA }, config.namespace!)).total,
    unavailableConfig: (): CommunicationConfigInput => ({ backend: 'postgres', settings: { postgres_host: '127.0.0.1', postgres_port: port, connect_timeout_ms: 500 } }),
    // Text that is not JSON in the entry's row (see damage.ts).
    damage: postgresDamage,
  });
}
