import { afterAll, describe, expect, it } from 'vitest';
import { CorruptDataError, InvalidValueError } from '@agent-state/core';
import { NativeFixture } from './native-helpers.js';
import { RUN_SCHEMA, dropRunSchema, requireServer, sql } from './pg-helpers.js';

const up = await requireServer();

describe.skipIf(!up)('damaged data, versions, increment', () => {
  afterAll(() => dropRunSchema());

  // Every operation refusing text that is not JSON, and repair past it, are the contract's
  // damaged-data group (test/damage.ts). Here: JSON that parses but no longer matches its checksum.
  it('a value that does not match its checksum is CorruptDataError for read, list, write and a blind commit; repair says checksum', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      await b.write('k', { a: 1 }, { json: '{"a":1}' });
      await sql(`UPDATE "${RUN_SCHEMA}".entries SET value = '{"a":2}' WHERE namespace = $1 AND key = 'k'`, [f.namespace]);
      await expect(b.read('k')).rejects.toThrow(CorruptDataError);
      await expect(b.list({ limit: 10 })).rejects.toThrow(CorruptDataError);
      await expect(b.write('k', 3, { json: '3' })).rejects.toThrow(CorruptDataError);
      await expect(b.commit({ reads: [], writes: [{ kind: 'write', key: 'k', value: 1, json: '1' }] })).rejects.toThrow(CorruptDataError);
      expect(await sql(`SELECT value FROM "${RUN_SCHEMA}".entries WHERE namespace = $1 AND key = 'k'`, [f.namespace])).toEqual([{ value: '{"a":2}' }]);
      const report = await b.repair('k');
      expect(report.removed).toBe(true);
      expect(report.damage).toMatch(/checksum/);
    } finally {
      await f.dispose();
    }
  });

  it('a row another tool wrote without a checksum is read if it is JSON and CorruptDataError if not', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      const insert = `INSERT INTO "${RUN_SCHEMA}".entries (namespace, key, value, checksum, version, updated_at, expires_at) VALUES ($1, $2, $3, NULL, 1, 0, NULL)`;
      await sql(insert, [f.namespace, 'ok', '[1,2]']);
      await sql(insert, [f.namespace, 'bad', '{not json']);
      expect((await b.read('ok'))?.value).toEqual([1, 2]);
      await expect(b.read('bad')).rejects.toThrow(/not valid JSON/);
      // A plain write over a checksum-less row takes the checked path and succeeds on sound JSON.
      expect((await b.write('ok', 3, { json: '3' })).version).toBe(2);
      await expect(b.write('bad', 3, { json: '3' })).rejects.toThrow(CorruptDataError);
    } finally {
      await f.dispose();
    }
  });

  it('increment over JSON null, a string or an object is InvalidValueError and changes nothing', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      for (const [key, json] of [['n', 'null'], ['s', '"1"'], ['o', '{}']] as const) {
        await b.write(key, JSON.parse(json), { json });
        await expect(b.increment(key, 1)).rejects.toThrow(InvalidValueError);
        expect((await b.read(key))?.version).toBe(1);
      }
      expect(await b.increment('c', 2)).toBe(2);
      expect(await b.increment('c', 0.5)).toBe(2.5);
    } finally {
      await f.dispose();
    }
  });

  it('versions never repeat: a DELETE by another tool, an expiry and the sweep all raise the namespace floor', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      for (let i = 0; i < 5; i++) await b.write('a', i, { json: String(i) });
      await sql(`DELETE FROM "${RUN_SCHEMA}".entries WHERE namespace = $1 AND key = 'a'`, [f.namespace]);
      expect((await b.write('a', 0, { json: '0' })).version).toBe(6);
      expect((await b.write('fresh', 0, { json: '0' })).version).toBe(6);
      const short = await b.write('t', 0, { json: '0', ttlMs: 1 });
      await new Promise((r) => setTimeout(r, 20));
      expect(await b.read('t')).toBeNull();
      expect((await b.write('t', 1, { json: '1', ifVersion: 'absent' })).version).toBeGreaterThan(short.version);
    } finally {
      await f.dispose();
    }
  });
});
