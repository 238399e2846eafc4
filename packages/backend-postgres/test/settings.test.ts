import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, InvalidConfigError, StateClosedError, openState } from '@agent-state/core';
import { createPostgresBackend, resolveOptions } from '../src/index.js';
import { FORMAT_VERSION } from '../src/layout.js';
import { RUN_SCHEMA, TEST_URL, closedPort, dropRunSchema, freshNamespace, requireServer, sql } from './pg-helpers.js';

const up = await requireServer();

describe('settings', () => {
  it('bad options are an InvalidConfigError naming the field and the value, before any I/O', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ schema: 'Bad-Name' }, /options\.schema.*"Bad-Name"/],
      [{ port: 70000 }, /options\.port.*70000/],
      [{ url: 'http://db:5432/x' }, /options\.url.*http:\/\/db:5432\/x/],
      [{ url: 'postgres://u:secret@db/x', schema: '1x' }, /options\.schema.*"1x"/],
      [{ poolSize: 0 }, /options\.poolSize.*0/],
      [{ statementTimeoutMs: 1.5 }, /options\.statementTimeoutMs.*1\.5/],
    ];
    for (const [options, message] of bad) {
      expect(() => createPostgresBackend(options)).toThrow(InvalidConfigError);
      expect(() => createPostgresBackend(options)).toThrow(message);
    }
    // A password is never echoed.
    expect(() => createPostgresBackend({ url: 'mysql://u:secret@db/x' })).toThrow(/\*\*\*/);
    expect(() => createPostgresBackend({ url: 'mysql://u:secret@db/x' })).not.toThrow(/secret/);
  });

  it('the URL gives the defaults; separate fields override its parts; the target never holds a password', () => {
    const o = resolveOptions({ url: 'postgres://app:pw@db.example:6543/prod', database: 'other' });
    expect([o.host, o.port, o.user, o.password, o.database, o.schema]).toEqual(['db.example', 6543, 'app', 'pw', 'other', 'agent_state']);
    expect(o.target).toBe('postgres://app@db.example:6543/other#agent_state');
    expect(resolveOptions({}).target).toBe('postgres://postgres@127.0.0.1:5432/postgres#agent_state');
  });

  it('project.yml settings: a bad postgres_schema names communication.settings.postgres_schema; a bad port is refused by core', async () => {
    await expect(openState({ config: { backend: 'postgres', settings: { postgres_schema: 'No Spaces' } }, env: {} })).rejects.toThrow(
      /communication\.settings\.postgres_schema.*"No Spaces"/,
    );
    await expect(openState({ config: { backend: 'postgres', settings: { postgres_port: 0 } }, env: {} })).rejects.toThrow(/postgres_port/);
  });

  it('a closed port is BackendUnavailableError within the connect timeout', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await openState({ config: { backend: 'postgres', settings: { postgres_port: port, connect_timeout_ms: 1000 } }, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(String(error)).toContain(`127.0.0.1:${port}`);
    // A bound on behaviour (fails instead of waiting forever), not a speed figure: the connect
    // timeout plus room for opening a client on a loaded machine.
    expect(Date.now() - started).toBeLessThan(1000 + 4000);
  });
});

describe.skipIf(!up)('settings against the server', () => {
  afterAll(async () => {
    await dropRunSchema();
    await dropRunSchema(`${RUN_SCHEMA}_newer`);
  });

  it('${VAR} substitution fills postgres_url and postgres_schema', async () => {
    const state = await openState({
      config: { backend: 'postgres', namespace: freshNamespace(), settings: { postgres_url: '${PG_URL}', postgres_schema: '${PG_SCHEMA}' } as never },
      env: { PG_URL: TEST_URL, PG_SCHEMA: RUN_SCHEMA },
    });
    try {
      await state.write('k', 1);
      expect((await state.read('k'))?.value).toBe(1);
      expect((await state.health()).target).toContain(RUN_SCHEMA);
    } finally {
      await state.close();
    }
  });

  it('a store of a newer format is refused with INVALID_CONFIG naming both versions', async () => {
    const schema = `${RUN_SCHEMA}_newer`;
    const first = createPostgresBackend({ url: TEST_URL, schema });
    await first.init({ namespace: 'ns', connectTimeoutMs: 10_000 });
    await first.close();
    await sql(`UPDATE "${schema}".meta SET value = '99' WHERE name = 'format'`);
    const second = createPostgresBackend({ url: TEST_URL, schema });
    const error = await second.init({ namespace: 'ns', connectTimeoutMs: 10_000 }).catch((e: unknown) => e);
    await second.close();
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).code).toBe('INVALID_CONFIG');
    expect(String(error)).toMatch(new RegExp(`format version 99.*\\(${FORMAT_VERSION}\\)`));
  });

  it('several processes opening a new schema at once create it once', async () => {
    const schema = `${RUN_SCHEMA}_race`;
    try {
      const backends = Array.from({ length: 4 }, () => createPostgresBackend({ url: TEST_URL, schema }));
      await Promise.all(backends.map((b) => b.init({ namespace: 'ns', connectTimeoutMs: 10_000 })));
      await Promise.all(backends.map((b) => b.close()));
      expect(await sql(`SELECT value FROM "${schema}".meta`)).toEqual([{ value: String(FORMAT_VERSION) }]);
    } finally {
      await dropRunSchema(schema);
    }
  });

  it('after close every operation rejects with StateClosedError (never throws synchronously)', async () => {
    const backend = createPostgresBackend({ url: TEST_URL, schema: RUN_SCHEMA });
    await backend.init({ namespace: freshNamespace(), connectTimeoutMs: 10_000 });
    expect((await backend.health()).details?.formatVersion).toBe(FORMAT_VERSION);
    await backend.close();
    const calls = [
      () => backend.read('k'),
      () => backend.write('k', 1, { json: '1' }),
      () => backend.commit({ reads: [], writes: [{ kind: 'delete', key: 'k' }] }),
      () => backend.queues.claim('q', { leaseMs: 10, owner: 'o' }),
      () => backend.logs.trim('l', { before: 1 }),
    ];
    for (const call of calls) await expect(call()).rejects.toThrow(StateClosedError);
  });

  it('statement_timeout_ms bounds a statement: a write blocked past it is BackendUnavailableError', async () => {
    const backend = createPostgresBackend({ url: TEST_URL, schema: RUN_SCHEMA, statementTimeoutMs: 300 });
    const namespace = freshNamespace();
    await backend.init({ namespace, connectTimeoutMs: 10_000 });
    try {
      await backend.write('k', 1, { json: '1' });
      const pg = (await import('pg')).default;
      const holder = new pg.Client({ connectionString: TEST_URL });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM "${RUN_SCHEMA}".entries WHERE namespace = $1 AND key = 'k' FOR UPDATE`, [namespace]);
        const error = await backend.write('k', 2, { json: '2', ifVersion: 1 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BackendUnavailableError);
        expect(String(error)).toMatch(/statement_timeout_ms/);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
    } finally {
      await backend.close();
    }
  });
});
