/** Parsing command-line values and printing results, the same way for every command. */
import type { Entry, JsonValue } from '@agent-state/core';
import { InvalidValueError } from '@agent-state/core';
import { UsageError } from './errors.js';

/** How a value argument is read. */
export interface ValueOptions {
  /** Take the text literally as a string instead of parsing it as JSON. */
  string?: boolean;
}

/**
 * A value from the command line: JSON by default (`42`, `"text"`, `{"a":1}`), the text itself
 * with `--string`. `-` reads standard input; with `--string`, one trailing newline is dropped
 * (what `echo` adds), the way `$(...)` would.
 */
export async function readValue(
  text: string | undefined,
  options: ValueOptions,
  stdin: NodeJS.ReadableStream,
  field = 'value',
): Promise<JsonValue> {
  if (text === undefined) throw new UsageError(`missing ${field} (give it as an argument, or - to read standard input)`);
  let raw = text;
  if (text === '-') {
    raw = await readAll(stdin);
    if (options.string) raw = raw.endsWith('\r\n') ? raw.slice(0, -2) : raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  }
  return parseValue(raw, options, field);
}

/** Parses `raw` as JSON (or keeps it as a string with `--string`); `InvalidValueError` otherwise. */
export function parseValue(raw: string, options: ValueOptions, field = 'value'): JsonValue {
  if (options.string) return raw;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    throw new InvalidValueError(field, raw, 'expected JSON (use --string to store the text as a string)');
  }
}

/** Reads a whole stream as UTF-8. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** How a value is printed. */
export interface PrintOptions {
  /** Print a string value without JSON quotes (other values print as JSON). */
  raw?: boolean;
}

/** One line for a value: JSON, or the bare string with `--raw`. */
export function formatValue(value: JsonValue, options: PrintOptions = {}): string {
  return `${options.raw && typeof value === 'string' ? value : JSON.stringify(value)}\n`;
}

/** One line of JSON for an entry (key, value, version, updatedAt, expiresAt?). */
export function formatEntry(entry: Entry): string {
  return `${JSON.stringify(entry)}\n`;
}
