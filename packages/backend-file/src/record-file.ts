/**
 * Small mutable records (the version floor, a queue's sequence counter, a log's head): one JSON
 * object per file, rewritten in place with one `pwrite` at offset 0 padded to whole 512-byte
 * sectors (as lease files are, see lock.ts), then `fdatasync` when the store is durable. A single
 * small sector-aligned `pwrite` is never torn by a process crash, and costs one flush instead of
 * the temp + fsync + rename + directory fsync of a document. Callers hold the record's mutex.
 *
 * A counter ({@link nextInCounter}: a queue's sequence, a lease's fencing token) is synced only
 * once per {@link COUNTER_BLOCK} values.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { CorruptDataError } from '@agent-state/core';
import { FILE_MODE, errnoOf, ioError } from './fs-io.js';
import { BOOT_ID } from './mutex.js';

const SECTOR = 512;

/** The record at `path`, or `undefined` when the file does not exist or is empty. */
export function readRecord<T extends object>(path: string, what: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw ioError(path, `read ${what}`, error);
  }
  if (text.trim() === '') return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object') throw new Error('not an object');
    return value as T;
  } catch (error) {
    throw new CorruptDataError(path, `${what} is not valid JSON (${text.length} bytes)`, { cause: error });
  }
}

/** Rewrites the record at `path` in place (created 0600 when missing); durable when asked. */
export function writeRecord(path: string, value: object, durable: boolean, what: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, FILE_MODE);
  } catch (error) {
    throw ioError(path, `open ${what}`, error);
  }
  try {
    const body = Buffer.from(JSON.stringify(value));
    // Never shorter than what is there, so no tail of an older record survives after ours.
    const size = Math.max(fstatSync(fd).size, Math.ceil((body.length + 1) / SECTOR) * SECTOR);
    const record = Buffer.alloc(size, 0x20);
    body.copy(record);
    record[size - 1] = 0x0a;
    writeSync(fd, record, 0, record.length, 0);
    if (durable) fdatasyncSync(fd);
  } catch (error) {
    throw ioError(path, `write ${what}`, error);
  } finally {
    closeSync(fd);
  }
}

/** Values of a counter reserved per fdatasync of its record (queue sequences, lease tokens). */
export const COUNTER_BLOCK = 1_000;

/**
 * A counter that never repeats a value, even across a power loss, without an fdatasync per value:
 * `reserved` (the end of the block of values that may have been handed out) is durable before
 * the block's first value leaves the process. Within one boot the page cache holds the last value
 * (a process crash loses nothing); a record last written in an earlier boot (`boot` differs: the
 * machine went down, maybe losing unsynced writes) continues above `reserved`.
 */
export interface CounterState {
  /** The last value handed out. */
  last: number;
  /** Values up to this one may have been handed out (absent in older records: `last`). */
  reserved?: number | undefined;
  /** Boot id of the process that last wrote the record. */
  boot?: string | undefined;
}

/**
 * The next value of a counter stored as `stored` (undefined: none yet): the value, the
 * reservation and boot to store with it, and whether the write must be synced (`durable` and a
 * new block) before the value leaves the process. Without a boot id (no /proc) every value is synced.
 */
export function nextInCounter(stored: CounterState | undefined, durable: boolean): { value: number; reserved: number; boot: string; sync: boolean } {
  let last = stored?.last ?? 0;
  let reserved = stored?.reserved ?? last;
  if (stored !== undefined && (stored.boot !== BOOT_ID || BOOT_ID === '')) last = Math.max(last, reserved);
  const value = last + 1;
  const sync = durable && value > reserved;
  if (sync) reserved = BOOT_ID === '' ? value : value + COUNTER_BLOCK - 1;
  return { value, reserved: Math.max(reserved, value), boot: BOOT_ID, sync };
}

/** A queue's sequence record (`#q/seq`): the last sequence issued and its {@link CounterState}. */
export interface SeqRecord {
  seq: number;
  reserved?: number;
  boot?: string;
}
