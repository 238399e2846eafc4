/**
 * Small mutable records (the version floor, a queue's sequence counter, a log's head): one JSON
 * object per file, rewritten in place with one `pwrite` at offset 0 padded to whole 512-byte
 * sectors (as lease files are, see lock.ts), then `fdatasync` when the store is durable. A single
 * small sector-aligned `pwrite` is never torn by a process crash, and costs one flush instead of
 * the temp + fsync + rename + directory fsync of a document. Callers hold the record's mutex.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { CorruptDataError } from '@agent-state/core';
import { FILE_MODE, errnoOf, ioError } from './fs-io.js';

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
