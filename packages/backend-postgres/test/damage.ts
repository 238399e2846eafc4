/** The contract suite's damage hook for PostgreSQL: text that is not JSON in the entry's row, read back as the row. */
import type { DamageHook } from '@agent-state/contract';
import { RUN_SCHEMA, sql } from './pg-helpers.js';

/** Cuts the entry's stored text in half, leaving its version and checksum. */
export const postgresDamage: DamageHook = {
  async damage(config, key) {
    const rows = await sql(`UPDATE "${RUN_SCHEMA}".entries SET value = left(value::text, length(value::text) / 2) WHERE namespace = $1 AND key = $2 RETURNING key`, [config.namespace, key]);
    if (rows.length !== 1) throw new Error(`no entry row for ${key} to damage`);
  },
  async stored(config, key) {
    return (await sql(`SELECT * FROM "${RUN_SCHEMA}".entries WHERE namespace = $1 AND key = $2`, [config.namespace, key]))[0] ?? null;
  },
};
