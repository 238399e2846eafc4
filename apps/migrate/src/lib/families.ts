import { createHash } from 'node:crypto';
import type { LogRecord, NativeLogs, NativeQueues, QueueJobRecord, StateClient } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';
import { canonicalJson } from './entries.js';
import type { Scanner } from './scan.js';

/**
 * Queues and logs (channels, mailboxes, user logs) that a backend keeps natively, outside its
 * keys: `list()` does not show them, so the key copy cannot carry them. They are copied here,
 * family by family, through the backend's own native surface on both sides.
 *
 * A backend without a native family keeps it as first-wave coordination keys (`@q/…`, `@ch/…`,
 * `@mail/…`, `@log/…`), which the key copy carries as they are; mixing the two layouts between
 * source and target is refused (see {@link assertSameLayout}).
 */
export interface NativeFamilies {
  queues?: NativeQueues;
  logs?: NativeLogs;
}

/** The native families a client's backend declares. */
export function nativeFamiliesOf(state: StateClient): NativeFamilies {
  // The migration tool is a tool for the whole store: it reads the backend's native surface
  // the way it reads its pages (`source.ts`), through core's documented subpath for tools.
  const backend = backendOf(state);
  const declared = backend.capabilities.coordination ?? {};
  return {
    ...(declared.queues && backend.queues && { queues: backend.queues }),
    ...(declared.logs && backend.logs && { logs: backend.logs }),
  };
}

/** One family item as the copy moves it and `--verify` compares it. */
export type FamilyItem =
  | { family: 'queue'; name: string; job: Pick<QueueJobRecord, 'json' | 'priority' | 'attempts' | 'state' | 'visibleAt'> }
  | { family: 'log'; name: string; record: Pick<LogRecord, 'json' | 'at'> };

const PAGE = 500;

/** Every job of every native queue, then every record of every native log, in a stable order. */
export async function* readFamilies(families: NativeFamilies): AsyncGenerator<FamilyItem> {
  if (families.queues) {
    for (const name of await families.queues.names()) {
      for (let after = 0; ; ) {
        const page = await families.queues.jobs(name, { afterSequence: after, limit: PAGE });
        for (const job of page) {
          yield { family: 'queue', name, job: { json: job.json, priority: job.priority, attempts: job.attempts, state: job.state, ...(job.visibleAt !== undefined && { visibleAt: job.visibleAt }) } };
        }
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.sequence;
      }
    }
  }
  if (families.logs) {
    for (const name of await families.logs.names('')) {
      for (let after = 0; ; ) {
        const page = await families.logs.read(name, { after, limit: PAGE });
        for (const record of page) yield { family: 'log', name, record: { json: record.json, at: record.at } };
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.seq;
      }
    }
  }
}

/** How many items of each family a store holds (for the scan and the report). */
export async function countFamilies(families: NativeFamilies): Promise<{ jobs: number; records: number; queues: number; logs: number }> {
  const counts = { jobs: 0, records: 0, queues: 0, logs: 0 };
  const seen = new Set<string>();
  for await (const item of readFamilies(families)) {
    const id = `${item.family}:${item.name}`;
    if (!seen.has(id)) {
      seen.add(id);
      if (item.family === 'queue') counts.queues++;
      else counts.logs++;
    }
    if (item.family === 'queue') counts.jobs++;
    else counts.records++;
  }
  return counts;
}

/**
 * Writes family items into the target, in the order read. Jobs keep their payload, priority,
 * order and state: a claimed job arrives waiting (its consumer belongs to the old store), a
 * delayed one with the delay it had left, a dead letter as a dead letter. `attempts` restart at
 * 0 and log records get the target's own sequence numbers and append times: the native surface
 * has no way to set them (documented in the README).
 */
export class FamilyWriter {
  #logBatch: { name: string; records: string[] } | undefined;
  written = 0;

  constructor(private readonly target: NativeFamilies) {}

  async add(item: FamilyItem): Promise<void> {
    if (item.family === 'log') {
      this.#need('logs', item.name); // fail at the first record, not at the flush
      if (this.#logBatch && this.#logBatch.name !== item.name) await this.flush();
      this.#logBatch ??= { name: item.name, records: [] };
      this.#logBatch.records.push(item.record.json);
      if (this.#logBatch.records.length >= 100) await this.flush();
      return;
    }
    await this.flush();
    const queues = this.#need('queues', item.name);
    const { job } = item;
    if (job.state === 'dead') {
      // Into a queue that holds nothing visible yet (dead letters are written first, see
      // `orderForWrite`): a claim with maxAttempts 0 moves the only visible job, this one, aside.
      await queues.enqueue(item.name, { json: job.json, priority: job.priority });
      const claimed = await queues.claim(item.name, { leaseMs: 1_000, owner: 'agent-state-migrate', maxAttempts: 0 });
      if (claimed) {
        await queues.settle(item.name, claimed.id, claimed.leaseId, { kind: 'nack', delayMs: 0 });
        throw new Error(`dead letter of queue ${item.name} could not be set aside on the target: a visible job was in the way`);
      }
    } else {
      const delayMs = job.state === 'delayed' && job.visibleAt !== undefined ? Math.max(0, job.visibleAt - Date.now()) : 0;
      await queues.enqueue(item.name, { json: job.json, priority: job.priority, ...(delayMs > 0 && { delayMs }) });
    }
    this.written++;
  }

  async flush(): Promise<void> {
    const batch = this.#logBatch;
    if (!batch) return;
    this.#logBatch = undefined;
    await this.#need('logs', batch.name).append(batch.name, batch.records);
    this.written += batch.records.length;
  }

  #need<K extends keyof NativeFamilies>(family: K, name: string): NonNullable<NativeFamilies[K]> {
    const f = this.target[family];
    if (!f) throw new Error(`the target has no native ${family} for ${name}`);
    return f as NonNullable<NativeFamilies[K]>;
  }
}

/** Dead letters of each queue first, then its live jobs, then logs (see {@link FamilyWriter.add}). */
export async function orderForWrite(items: AsyncIterable<FamilyItem> | Iterable<FamilyItem>): Promise<FamilyItem[]> {
  const all: FamilyItem[] = [];
  for await (const item of items) all.push(item);
  const rank = (i: FamilyItem) => (i.family === 'log' ? 2 : i.job.state === 'dead' ? 0 : 1);
  return all
    .map((item, index) => ({ item, index }))
    .sort((a, b) => {
      const byName = a.item.family === b.item.family ? a.item.name.localeCompare(b.item.name) : a.item.family === 'queue' ? -1 : 1;
      return byName || rank(a.item) - rank(b.item) || a.index - b.index;
    })
    .map((x) => x.item);
}

/** What `--verify` compares for one family item: what the copy promises to keep. */
export function familyDigest(item: FamilyItem): string {
  const kept =
    item.family === 'queue'
      ? { f: 'queue', n: item.name, json: canonicalJson(JSON.parse(item.job.json)), p: item.job.priority, s: item.job.state === 'dead' ? 'dead' : item.job.state === 'delayed' ? 'delayed' : 'waiting' }
      : { f: 'log', n: item.name, json: canonicalJson(JSON.parse(item.record.json)) };
  return createHash('sha1').update(JSON.stringify(kept)).digest('hex');
}

/** Differences between the family items of two stores, by position within each queue and log. */
export async function compareFamilies(source: NativeFamilies, target: NativeFamilies): Promise<{ checked: number; differences: { key: string; kind: 'missing' | 'extra' | 'changed' }[] }> {
  return compareFamilyLists(readFamilies(source), target);
}

/** Like {@link compareFamilies}, with the expected items given (an imported file's lines). */
export async function compareFamilyLists(
  expected: AsyncIterable<FamilyItem> | Iterable<FamilyItem>,
  target: NativeFamilies,
): Promise<{ checked: number; differences: { key: string; kind: 'missing' | 'extra' | 'changed' }[] }> {
  const group = async (items: AsyncIterable<FamilyItem> | Iterable<FamilyItem>) => {
    const byName = new Map<string, string[]>();
    for (const item of await orderForWrite(items)) {
      const id = `${item.family === 'queue' ? (item.job.state === 'dead' ? 'queue-dead' : 'queue') : 'log'}:${item.name}`;
      let list = byName.get(id);
      if (!list) byName.set(id, (list = []));
      list.push(familyDigest(item));
    }
    return byName;
  };
  const [a, b] = await Promise.all([group(expected), group(readFamilies(target))]);
  const differences: { key: string; kind: 'missing' | 'extra' | 'changed' }[] = [];
  let checked = 0;
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(id) ?? [];
    const y = b.get(id) ?? [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      checked++;
      const key = `${id}#${i + 1}`;
      if (i >= y.length) differences.push({ key, kind: 'missing' });
      else if (i >= x.length) differences.push({ key, kind: 'extra' });
      else if (x[i] !== y[i]) differences.push({ key, kind: 'changed' });
    }
  }
  return { checked, differences };
}

/** Refuses a copy between a native and a key-layout family: the items would land where nobody reads. */
export function assertSameLayout(source: NativeFamilies, target: NativeFamilies, fail: (message: string) => never): void {
  for (const family of ['queues', 'logs'] as const) {
    if (Boolean(source[family]) !== Boolean(target[family])) {
      fail(`the source keeps ${family} ${source[family] ? 'natively' : 'as coordination keys'} and the target ${target[family] ? 'natively' : 'as coordination keys'}: copying between the two layouts is not supported yet`);
    }
  }
}

/** Counts the native families into the scan, and their live claims into its busy check. */
export async function scanFamilies(families: NativeFamilies, scanner: Scanner): Promise<void> {
  if (!families.queues && !families.logs) return;
  const native = { queues: 0, jobs: 0, deadLetters: 0, logs: 0, records: 0 };
  if (families.queues) {
    for (const name of await families.queues.names()) {
      const counts = await families.queues.counts(name);
      native.queues++;
      native.jobs += counts.waiting + counts.inFlight + counts.delayed;
      native.deadLetters += counts.dead;
      scanner.stats.leasedJobs += counts.inFlight;
      if (counts.inFlight > 0) {
        scanner.stats.liveJobLeases += counts.inFlight;
        if (scanner.stats.liveJobLeaseKeys.length < 10) scanner.stats.liveJobLeaseKeys.push(`queue ${name}`);
      }
    }
  }
  if (families.logs) {
    for (const name of await families.logs.names('')) {
      native.logs++;
      for (let after = 0; ; ) {
        const page = await families.logs.read(name, { after, limit: PAGE });
        native.records += page.length;
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.seq;
      }
    }
  }
  scanner.stats.native = native;
}

/** True when the target's native families hold nothing. */
export async function familiesAreEmpty(families: NativeFamilies): Promise<boolean> {
  if (families.queues && (await families.queues.names()).length > 0) return false;
  if (families.logs && (await families.logs.names('')).length > 0) return false;
  return true;
}

/**
 * Empties the target's native families (`--overwrite`, or a resumed run that may have copied
 * part of them): logs are trimmed to nothing, dead letters deleted, visible jobs claimed and
 * acked. Delayed jobs cannot be reached before they are due: they are waited out up to a bound,
 * then the clear fails rather than leave duplicates behind.
 */
export async function clearFamilies(families: NativeFamilies): Promise<void> {
  if (families.logs) {
    for (const name of await families.logs.names('')) await families.logs.trim(name, { keepLast: 0 });
  }
  if (!families.queues) return;
  const deadline = performance.now() + 30_000;
  for (const name of await families.queues.names()) {
    for (;;) {
      const dead = await families.queues.jobs(name, { state: 'dead', limit: PAGE });
      for (const job of dead) await families.queues.reviveDead(name, job.id, 'delete');
      for (let job = await families.queues.claim(name, { leaseMs: 60_000, owner: 'agent-state-migrate' }); job; job = await families.queues.claim(name, { leaseMs: 60_000, owner: 'agent-state-migrate' })) {
        await families.queues.settle(name, job.id, job.leaseId, { kind: 'ack' });
      }
      const left = await families.queues.counts(name);
      if (left.waiting + left.delayed + left.inFlight + left.dead === 0) break;
      if (performance.now() > deadline) throw new Error(`could not empty queue ${name} on the target (${left.delayed} delayed, ${left.inFlight} in flight): clear it and rerun with --overwrite`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
