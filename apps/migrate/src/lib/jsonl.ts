import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { keyProblem, type JsonValue } from '@agent-state/core';
import { MigrateError } from '../errors.js';

/**
 * The JSONL state format (`export` writes it, `import` reads it): UTF-8, one JSON object per
 * line. Line 1 is the header; every other line is one entry, in key order when written by
 * `export` (any order is accepted on import).
 *
 *     {"format":"agent-state-jsonl","version":1,"namespace":"my-team","source":{"backend":"file",...},"exportedAt":1763740000000,"count":2}
 *     {"key":"tasks/42","value":{"status":"assigned"}}
 *     {"key":"session/7","value":"x","expiresAt":1763740060000,"ttlMs":60000,"version":3}
 */
export const JSONL_FORMAT = 'agent-state-jsonl';
export const JSONL_VERSION = 1;

/** Line 1 of a JSONL state file. */
export interface JsonlHeader {
  format: typeof JSONL_FORMAT;
  version: typeof JSONL_VERSION;
  /** The namespace the entries were exported from. */
  namespace: string;
  /** The backend they were exported from: `{ backend, namespace, source }`. */
  source: unknown;
  /** Epoch ms when the export started. */
  exportedAt: number;
  /** Number of entry lines, when known. */
  count?: number;
}

/** One entry line. */
export interface JsonlEntry {
  key: string;
  value: JsonValue;
  /** Epoch ms when the entry expires; import skips it if this has passed. */
  expiresAt?: number;
  /** Time to live left at export time; used by import only when `expiresAt` is absent. */
  ttlMs?: number;
  /** The version on the source (informational: the target starts at 1). */
  version?: number;
}

/** A line of an entry, with its (1-based) line number in the file. */
export interface NumberedEntry {
  line: number;
  entry: JsonlEntry;
  /** The serialized value, as it is in the file. */
  json: string;
}

/** One entry as a line (with its newline). */
export function entryLine(entry: JsonlEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/** Reads and checks the header line. */
export function parseHeader(text: string | undefined, file: string): JsonlHeader {
  const header = parseObject(text ?? '', file, 1);
  if (header['format'] !== JSONL_FORMAT) {
    fail(file, 1, `expected a header with "format":"${JSONL_FORMAT}", got ${JSON.stringify(header['format'] ?? null)}`);
  }
  if (header['version'] !== JSONL_VERSION) fail(file, 1, `unsupported version ${JSON.stringify(header['version'] ?? null)} (this tool reads version ${JSONL_VERSION})`);
  if (typeof header['namespace'] !== 'string') fail(file, 1, 'the header has no "namespace" string');
  return header as unknown as JsonlHeader;
}

/** Parses and checks one entry line; `BAD_INPUT` naming the file and line otherwise. */
export function parseEntry(text: string, file: string, line: number): NumberedEntry {
  const o = parseObject(text, file, line);
  const key = o['key'];
  const problem = keyProblem(key);
  if (problem !== null) fail(file, line, `"key": ${problem}`);
  if (!('value' in o)) fail(file, line, `entry ${JSON.stringify(key)} has no "value"`);
  const expiresAt = o['expiresAt'];
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) fail(file, line, '"expiresAt" must be epoch milliseconds');
  const ttlMs = o['ttlMs'];
  if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !(ttlMs > 0))) fail(file, line, '"ttlMs" must be a number greater than 0');
  const entry: JsonlEntry = { key: key as string, value: o['value'] as JsonValue };
  if (expiresAt !== undefined) entry.expiresAt = expiresAt as number;
  if (ttlMs !== undefined) entry.ttlMs = ttlMs as number;
  if (typeof o['version'] === 'number') entry.version = o['version'];
  return { line, entry, json: JSON.stringify(entry.value) };
}

/** The header and every entry of a file, checked line by line, streamed. */
export async function* readJsonl(file: string): AsyncGenerator<JsonlHeader | NumberedEntry> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (n === 1) {
        yield parseHeader(text, file);
        continue;
      }
      if (text.trim() === '') continue;
      yield parseEntry(text, file, n);
    }
  } catch (error) {
    if (error instanceof MigrateError) throw error;
    throw new MigrateError('BAD_INPUT', `${file}: cannot read: ${(error as Error).message}`, { cause: error });
  } finally {
    lines.close();
  }
  if (n === 0) fail(file, 1, 'the file is empty (expected a header line)');
}

function parseObject(text: string, file: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(file, line, `not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(file, line, 'expected a JSON object');
  return value as Record<string, unknown>;
}

function fail(file: string, line: number, problem: string): never {
  throw new MigrateError('BAD_INPUT', `${file}:${line}: ${problem}`);
}
