import { randomBytes } from 'node:crypto';
import { BackendUnavailableError } from '@agent-state/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../src/connection.js';
import { TooManyConnectionsError } from '../src/errors.js';
import { resolveOptions } from '../src/options.js';
import { TEST_URL, requireServer, sql } from './pg-helpers.js';

const up = await requireServer();

describe.skipIf(!up)('connection slots', () => {
  // A role of its own with room for one connection: the server refuses the second with SQLSTATE
  // 53300 as it does when max_connections is used up, without taking any slot from others.
  const role = `agent_state_slots_${process.pid}_${randomBytes(3).toString('hex')}`;
  beforeAll(() => sql(`CREATE ROLE "${role}" LOGIN CONNECTION LIMIT 1`));
  afterAll(() => sql(`DROP ROLE IF EXISTS "${role}"`));

  it('a server out of connection slots is a typed BACKEND_UNAVAILABLE naming postgres_pool_size and the pool in effect', async () => {
    const url = new URL(TEST_URL);
    url.username = role;
    url.password = '';
    const db = await Db.open(resolveOptions({ url: url.toString(), poolSize: 2 }), 10_000);
    try {
      // Two statements at once: the pool opens a second connection, which the role cannot have.
      const results = await Promise.allSettled([db.query('SELECT pg_sleep(0.3)'), db.query('SELECT pg_sleep(0.3)')]);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused, 'one of the two statements is refused').toBeDefined();
      const error = refused!.reason as TooManyConnectionsError;
      expect(error).toBeInstanceOf(TooManyConnectionsError);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.code).toBe('BACKEND_UNAVAILABLE');
      expect(error.setting).toBe('communication.settings.postgres_pool_size');
      expect(error.poolSize).toBe(2);
      expect(error.message).toMatch(/53300/);
      expect(error.message).toMatch(/postgres_pool_size \(option poolSize, now 2\)/);
    } finally {
      await db.close();
    }
  });
});
