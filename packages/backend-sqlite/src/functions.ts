/**
 * SQL functions written in JavaScript, registered on each connection, so that an increment is
 * one statement (one lock acquisition, no read-then-write round trip). They throw agent-state
 * errors, which better-sqlite3 lets through the statement unchanged (the statement is undone).
 */
import type Database from 'better-sqlite3';
import { CorruptDataError, InvalidValueError } from '@agent-state/core';
import { checksumOf, damageOf, rowLocation } from './codec.js';

/**
 * `agent_state_add(namespace, key, value, checksum, by)` → the JSON text of `value + by`, after
 * checking the stored value against its checksum and that it holds a number.
 * `agent_state_intact(namespace, key, value, checksum, expires_at, now)` → 1 for an expired or
 * undamaged row; a CorruptDataError for a live damaged one (guards every overwrite and delete).
 * `agent_state_checksum(text)` → the checksum of `text` (see codec.ts).
 */
export function registerFunctions(db: Database.Database, path: string): void {
  db.function('agent_state_add', { deterministic: true }, (namespace: unknown, key: unknown, json: unknown, checksum: unknown, by: unknown) => {
    const where = () => rowLocation(path, String(namespace), String(key));
    if (typeof json !== 'string' || (checksum !== null && checksumOf(json) !== checksum)) {
      throw new CorruptDataError(where(), 'the value does not match its checksum');
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new CorruptDataError(where(), 'the value is not valid JSON', { cause: error });
    }
    if (typeof value !== 'number') throw new InvalidValueError(String(key), value, 'increment expected the key to hold a number');
    const next = value + (by as number);
    if (!Number.isFinite(next)) throw new InvalidValueError('by', by, `increment of ${String(key)} would leave a number JSON cannot hold`);
    return JSON.stringify(next);
  });
  db.function('agent_state_intact', { deterministic: true }, (namespace: unknown, key: unknown, json: unknown, checksum: unknown, expiresAt: unknown, now: unknown) => {
    if (expiresAt !== null && (expiresAt as number) <= (now as number)) return 1;
    const damage = damageOf(json, checksum);
    if (damage !== undefined) throw new CorruptDataError(rowLocation(path, String(namespace), String(key)), damage);
    return 1;
  });
  db.function('agent_state_checksum', { deterministic: true }, (text: unknown) => checksumOf(String(text)));
}
