import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { keyProblem, type JsonValue } from '@agent-state/core';
import { MigrateError } from '../errors.js';
import type { FamilyItem } from './families.js';

/**
 * The JSONL state format (`export` writes it, `import` reads it): UTF-8, one JSON object per
 * line. Line 1 is the header; every other line is one entry, in key order when written by
 * `export` (any order is accepted on import).
 *
 *     {"format":"agent-state-jsonl","version":1,"namespace":"my-team","source":{"backend":"file",...},"exportedAt":1763740000000,"count":2}
 *     {"key":"tasks/42","value":{"status":"assigned"}}
 *     {"key":"session/7","value":"x","expiresAt":1763740060000,"ttlMs":60000,"version":3}
 *
 * Version 2 adds, after the entries, one line per job of a native queue and per record of a
 * native log (backends that keep them outside their keys):
 *
 *     {"family":"queue","name":"work","job":{"payload":{"n":1},"priority":10,"state":"waiting","attempts":1}}
 *     {"family":"log","name":"mail/bob","record":{"from":"alice","message":"hi"},"at":1763740000000}
 *
 * Version 1 files (entries only) are read as they are.
 */
export const JSONL_FORMAT = 'agent-state-jsonl';
export const JSONL_VERSION = 2;
/** Every version `import` reads. */
export const JSONL_READABLE_VERSIONS: readonly number[] = [1, 2];

/** Line 1 of a JSONL state file. */
export interface JsonlHeader {
  format: typeof JSONL_FORMAT;
  version: number;
  /** The namespace the entries were exported from. */
  namespace: string;
  /** The backend they were exported from: `{ backend, namespace, source }`. */
  source: unknown;
  /** Epoch ms when the export started. */
  exportedAt: number;
  /** Number of entry lines, when known. */
  count?: number;
  /** Number of native queue job and log record lines (version 2). */
  familyItems?: number;
}

/** A line of a native queue job or log record, with its line number. */
export interface NumberedFamilyItem {
  line: number;
  item: FamilyItem;
}

/** A family item as a line (with its newline). */
export function familyLine(item: FamilyItem): string {
  if (item.family === 'queue') {
    const { json, ...job } = item.job;
    return `${JSON.stringify({ family: 'queue', name: item.name, job: { payload: JSON.parse(json) as JsonValue, ...job } })}\n`;
  }
  return `${JSON.stringify({ family: 'log', name: item.name, record: JSON.parse(item.record.json) as JsonValue, at: item.record.at })}\n`;
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
  if (!JSONL_READABLE_VERSIONS.includes(header['version'] as number)) {
    fail(file, 1, `unsupported version ${JSON.stringify(header['version'] ?? null)} (this tool reads versions ${JSONL_READABLE_VERSIONS.join(', ')})`);
  }
  if (typeof header['namespace'] !== 'string') fail(file, 1, 'the header has no "namespace" string');
  return header as unknown as JsonlHeader;
}

/** Parses and checks one entry line; `BAD_INPUT` naming the file and line otherwise. */
export function parseEntry(text: string, file: string, line: number): NumberedEntry {
  return parseEntryObject(parseObject(text, file, line), file, line);
}

function parseEntryObject(o: Record<string, unknown>, file: string, line: number): NumberedEntry {
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

const JOB_STATES = ['waiting', 'delayed', 'in-flight', 'dead'];
const NAME = /^[A-Za-z0-9._\-:@+=,]{1,128}(\/[A-Za-z0-9._\-:@+=,]{1,128})?$/;

/** Parses and checks one family line (version 2). */
export function parseFamilyItem(o: Record<string, unknown>, file: string, line: number): NumberedFamilyItem {
  const name = o['name'];
  if (typeof name !== 'string' || !NAME.test(name)) fail(file, line, `"name": expected a queue or log name, got ${JSON.stringify(name ?? null)}`);
  if (o['family'] === 'queue') {
    const job = o['job'] as Record<string, unknown> | null;
    if (!job || typeof job !== 'object' || !('payload' in job)) fail(file, line, 'a queue line needs "job" with a "payload"');
    if (typeof job['priority'] !== 'number' || !Number.isInteger(job['priority'])) fail(file, line, '"job.priority" must be a whole number');
    if (!JOB_STATES.includes(job['state'] as string)) fail(file, line, `"job.state" must be one of ${JOB_STATES.join(', ')}`);
    const attempts = typeof job['attempts'] === 'number' ? job['attempts'] : 0;
    const visibleAt = typeof job['visibleAt'] === 'number' ? job['visibleAt'] : undefined;
    return {
      line,
      item: { family: 'queue', name, job: { json: JSON.stringify(job['payload']), priority: job['priority'], attempts, state: job['state'] as 'waiting', ...(visibleAt !== undefined && { visibleAt }) } },
    };
  }
  if (o['family'] === 'log') {
    if (!('record' in o)) fail(file, line, 'a log line needs a "record"');
    const at = typeof o['at'] === 'number' ? o['at'] : 0;
    return { line, item: { family: 'log', name, record: { json: JSON.stringify(o['record']), at } } };
  }
  fail(file, line, `"family" must be "queue" or "log", got ${JSON.stringify(o['family'] ?? null)}`);
}

/** The header and every entry of a file, checked line by line, streamed. */
export async function* readJsonl(file: string): AsyncGenerator<JsonlHeader | NumberedEntry | NumberedFamilyItem> {
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
      const o = parseObject(text, file, n);
      yield 'family' in o ? parseFamilyItem(o, file, n) : parseEntryObject(o, file, n);
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
