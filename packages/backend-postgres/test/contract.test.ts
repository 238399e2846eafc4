import { afterAll, describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/contract';
import { dropNamespace, storageCounts } from '../src/storage.js';
import { RUN_SCHEMA, TEST_URL, closedPort, dropRunSchema, freshNamespace, requireServer } from './pg-helpers.js';

const up = await requireServer();
const port = await closedPort();

if (!up) {
  it.skip(`PostgreSQL contract suite: no server at ${TEST_URL}`, () => undefined);
} else {
  afterAll(() => dropRunSchema());
  runContractSuite({ describe, it }, {
    name: 'postgres',
    multiProcess: true,
    crashSafe: true,
    config: () => ({ backend: 'postgres', namespace: freshNamespace(), settings: { postgres_url: TEST_URL, postgres_schema: RUN_SCHEMA } }),
    cleanup: (config) => dropNamespace({ url: TEST_URL, schema: RUN_SCHEMA }, config.namespace!),
    // Every row of the test's namespace in every table (see src/storage.ts).
    storageCount: async (config) => (await storageCounts({ url: TEST_URL, schema: RUN_SCHEMA }, config.namespace!)).total,
    unavailableConfig: () => ({ backend: 'postgres', settings: { postgres_host: '127.0.0.1', postgres_port: port, connect_timeout_ms: 500 } }),
  });
}
