import { compareKeys, type Entry, type JsonValue } from '@agent-state/core';
import { checksum, prepareValue } from './entries.js';

/** One key as `--verify` sees it: the checksum of its canonical value (+ whether it expires). */
export interface KeyDigest {
  key: string;
  digest: string;
  expiresAt?: number;
}

/** A key that differs between the two sides. */
export interface Difference {
  key: string;
  /** `missing`: only on the source; `extra`: only on the target; `changed`: values differ; `ttl`: one side expires, the other not. */
  kind: 'missing' | 'extra' | 'changed' | 'ttl';
}

/** The result of comparing every key of both sides. */
export interface VerifyReport {
  ok: boolean;
  /** Keys compared. */
  checked: number;
  matched: number;
  /** Keys that expired between the copy and the comparison (on one side only): not differences. */
  expiredMeanwhile: number;
  differenceCount: number;
  /** The first differences (at most {@link MAX_REPORTED}). */
  differences: Difference[];
}

/** How many differences a report lists by key. */
export const MAX_REPORTED = 100;
/** An entry this close to its expiry may be gone on one side already; that is not a difference. */
const EXPIRY_SLACK_MS = 2_000;

/** Digests of entries as the source holds them, transformed as the copy transforms them. */
export async function* sourceDigests(entries: AsyncIterable<Pick<Entry, 'key' | 'value' | 'expiresAt'>>): AsyncGenerator<KeyDigest> {
  for await (const e of entries) yield digestOf(e.key, prepareValue(e.key, e.value), e.expiresAt);
}

/** Digests of entries as the target holds them. */
export async function* targetDigests(entries: AsyncIterable<Entry>): AsyncGenerator<KeyDigest> {
  for await (const e of entries) yield digestOf(e.key, e.value, e.expiresAt);
}

function digestOf(key: string, value: JsonValue, expiresAt: number | undefined): KeyDigest {
  const d: KeyDigest = { key, digest: checksum(value, expiresAt !== undefined) };
  if (expiresAt !== undefined) d.expiresAt = expiresAt;
  return d;
}

/** Buffers and sorts digests that may come in any order (a hand-written JSONL file). */
export async function sortDigests(digests: AsyncIterable<KeyDigest>): Promise<KeyDigest[]> {
  const all: KeyDigest[] = [];
  for await (const d of digests) all.push(d);
  return all.sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * Compares two key-ordered digest streams, every key, in one merge pass (memory stays flat
 * whatever the size of the namespace).
 */
export async function compareDigests(
  source: AsyncIterable<KeyDigest> | Iterable<KeyDigest>,
  target: AsyncIterable<KeyDigest> | Iterable<KeyDigest>,
  onProgress?: (checked: number) => void,
): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, checked: 0, matched: 0, expiredMeanwhile: 0, differenceCount: 0, differences: [] };
  const differ = (key: string, kind: Difference['kind']) => {
    report.differenceCount++;
    if (report.differences.length < MAX_REPORTED) report.differences.push({ key, kind });
  };
  const expiring = (d: KeyDigest) => d.expiresAt !== undefined && d.expiresAt <= Date.now() + EXPIRY_SLACK_MS;
  const a = iterate(source);
  const b = iterate(target);
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (++report.checked % 1_000 === 0) onProgress?.(report.checked);
    const order = x.done ? 1 : y.done ? -1 : compareKeys(x.value.key, y.value.key);
    if (order < 0) {
      const d = x.value as KeyDigest;
      if (expiring(d)) report.expiredMeanwhile++;
      else differ(d.key, 'missing');
      x = await a.next();
    } else if (order > 0) {
      const d = y.value as KeyDigest;
      if (expiring(d)) report.expiredMeanwhile++;
      else differ(d.key, 'extra');
      y = await b.next();
    } else {
      const s = x.value as KeyDigest;
      const t = y.value as KeyDigest;
      if (s.digest === t.digest) report.matched++;
      else differ(s.key, (s.expiresAt === undefined) !== (t.expiresAt === undefined) ? 'ttl' : 'changed');
      x = await a.next();
      y = await b.next();
    }
  }
  onProgress?.(report.checked);
  report.ok = report.differenceCount === 0;
  return report;
}

function iterate<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

/** Folds the comparison of native queues and logs (by position) into a key report. */
export function addFamilyDifferences(report: VerifyReport, families: { checked: number; differences: Difference[] }): void {
  report.checked += families.checked;
  report.matched += families.checked - families.differences.length;
  report.differenceCount += families.differences.length;
  for (const d of families.differences) if (report.differences.length < MAX_REPORTED) report.differences.push(d);
  report.ok = report.differenceCount === 0;
}
