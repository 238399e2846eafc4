/** Parsing option values (durations, numbers, versions); no import of core, so `--help` stays cheap. */
import { UsageError } from './errors.js';

/**
 * A duration: a number of milliseconds, or a number with a unit (`500ms`, `30s`, `5m`, `1h`).
 * Seconds are what the seed plan's shell functions pass, so both forms are accepted everywhere.
 */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option}: expected a duration like 500, 500ms, 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  const n = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const ms = n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1_000 : 1);
  return Math.round(ms);
}

/** A whole number (`--if-version`, `--limit` ...); `UsageError` otherwise. */
export function parseInteger(text: string, option: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${option}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A number (`incr BY`); `UsageError` otherwise. */
export function parseNumber(text: string, option: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${option}: expected a number, got ${JSON.stringify(text)}`);
  return n;
}

/** `--if-version N|absent`. */
export function parseExpectedVersion(text: string): number | 'absent' {
  return text === 'absent' ? 'absent' : parseInteger(text, '--if-version');
}
