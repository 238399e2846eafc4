import { resolve } from 'node:path';
import type { StateClient } from '@agent-state/core';
import { MigrateError } from '../../errors.js';
import { checkpointPath, readCheckpoint } from '../../lib/checkpoint.js';
import { endpointId, openEndpoint, resolveEndpoint } from '../../lib/endpoint.js';
import { checksum, prepareValue } from '../../lib/entries.js';
import { readJsonl, type JsonlEntry, type JsonlHeader, type NumberedEntry } from '../../lib/jsonl.js';
import {
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_SIZE,
  emptyReport,
  finishReport,
  recordCopy,
  type CommonOptions,
  type MigrationReport,
} from '../../lib/report.js';
import { FamilyWriter, clearFamilies, compareFamilyLists, familiesAreEmpty, nativeFamiliesOf, orderForWrite, type FamilyItem } from '../../lib/families.js';
import { Scanner } from '../../lib/scan.js';
import { listNamespace } from '../../lib/source.js';
import { TargetSession } from '../../lib/target-session.js';
import { addFamilyDifferences, compareDigests, sortDigests, targetDigests, type KeyDigest } from '../../lib/verify.js';

/** Options of {@link importState}. */
export interface ImportOptions extends CommonOptions {
  /** The JSONL file to read. */
  from: string;
  /** Target backend name (default: the one project.yml selects). */
  to?: string;
  toConfig?: string;
  /** Target namespace; default the config's (not the file's: the project decides where its data lives). */
  toNamespace?: string;
}

/**
 * Loads a JSONL state file into a backend. The whole file is checked first (a bad line stops
 * the import before anything is written, naming the line); then entries are committed in
 * batches with the line number as the cursor, resumable exactly like a migration. An entry's
 * `expiresAt` is kept as it is (an entry whose time has passed is skipped); `ttlMs` counts from
 * the import only when `expiresAt` is absent.
 */
export async function importState(options: ImportOptions): Promise<MigrationReport> {
  const startedAt = Date.now();
  const cwd = resolve(options.cwd ?? process.cwd());
  if (!options.from) throw new MigrateError('USAGE', 'say which file to import: import --from <file.jsonl>');
  const file = resolve(cwd, options.from);
  const to = resolveEndpoint(
    { ...(options.to !== undefined && { backend: options.to }), ...(options.toConfig !== undefined && { configFile: options.toConfig }), ...(options.toNamespace !== undefined && { namespace: options.toNamespace }) },
    cwd,
    options.env,
  );
  const checkpointFile = checkpointPath(cwd, `jsonl.${file.split(/[\\/]/).pop() ?? 'state'}`, to.label + (options.toNamespace !== undefined ? `.${to.namespace}` : ''));
  const resumeHint = `agent-state-migrate import --from ${options.from}${options.to ? ` --to ${options.to}` : ''}${options.toConfig ? ` --to-config ${options.toConfig}` : ''}${options.toNamespace ? ` --to-namespace ${options.toNamespace}` : ''} --resume`;
  if (!options.dryRun && !options.resume && readCheckpoint(checkpointFile)) {
    throw new MigrateError('CHECKPOINT', `an interrupted import is recorded in ${checkpointFile}: run \`${resumeHint}\` to finish it, or delete that file and start over with --overwrite`);
  }

  // Check every line before writing anything.
  const scanner = new Scanner();
  let header: JsonlHeader | undefined;
  let sorted = true;
  let previous: string | undefined;
  const familyItems: FamilyItem[] = [];
  for await (const item of readJsonl(file)) {
    if ('item' in item) {
      familyItems.push(item.item);
      continue;
    }
    if (!('entry' in item)) {
      header = item;
      continue;
    }
    scanner.add(item.entry, item.json);
    if (previous !== undefined && !(item.entry.key > previous)) sorted = false;
    previous = item.entry.key;
  }
  const report = emptyReport('import', { file, namespace: header?.namespace ?? null, source: header?.source ?? null }, endpointId(to), scanner.stats, options.dryRun === true);
  if (options.dryRun) return finishReport(report, startedAt);

  let target: StateClient | undefined;
  try {
    target = await openEndpoint(to, cwd);
    const targetFamilies = nativeFamiliesOf(target);
    if (familyItems.some((i) => (i.family === 'queue' ? !targetFamilies.queues : !targetFamilies.logs))) {
      throw new MigrateError('USAGE', `${file} holds native queue jobs or log records, and the ${target.backendName} target keeps them as coordination keys: importing between the two layouts is not supported yet`);
    }
    if (!options.resume && !options.overwrite && !(await familiesAreEmpty(targetFamilies))) {
      throw new MigrateError('TARGET_NOT_EMPTY', `the target namespace ${JSON.stringify(target.namespace)} on ${target.backendName} holds queue jobs or log records: pass --overwrite to replace its contents`);
    }
    const session = await TargetSession.open({
      state: target,
      checkpointFile,
      command: 'import',
      from: { file },
      to: endpointId(to),
      resume: options.resume === true,
      overwrite: options.overwrite === true,
      batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
      batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
      resumeHint,
      onBatch: (copied) => options.onProgress?.({ phase: 'copy', done: copied, total: scanner.stats.entries }),
    });
    report.resumed = options.resume === true;
    const copiedBefore = session.copied;
    if (!session.copyDone) {
      const copyStartedAt = Date.now();
      const afterLine = typeof session.cursor === 'number' ? session.cursor : 0;
      for await (const item of readJsonl(file)) {
        if (!('entry' in item) || item.line <= afterLine) continue;
        const ttlMs = ttlOf(item.entry, Date.now());
        if (ttlMs !== undefined && ttlMs <= 0) {
          session.skipExpired(item.line);
          continue;
        }
        const { key, value } = item.entry;
        await session.add({ key, value: prepareValue(key, value), json: item.json, ...(ttlMs !== undefined && { ttlMs }) }, item.line);
      }
      await session.flush();
      if (options.resume || options.overwrite) await clearFamilies(targetFamilies);
      const writer = new FamilyWriter(targetFamilies);
      for (const item of await orderForWrite(familyItems)) await writer.add(item);
      await writer.flush();
      report.familyItems = writer.written;
      await session.finishCopy();
      recordCopy(report, copyStartedAt, session.copied - copiedBefore + writer.written);
    }
    Object.assign(report, { copied: session.copied, skippedExpired: session.skippedExpired, bytes: session.bytes });

    if (options.verify !== false) {
      const expected = fileDigests(file, Date.now());
      report.verify = await compareDigests(sorted ? expected : await sortDigests(expected), targetDigests(listNamespace(target)), (checked) =>
        options.onProgress?.({ phase: 'verify', done: checked, total: scanner.stats.entries }),
      );
      addFamilyDifferences(report.verify, await compareFamilyLists(familyItems, targetFamilies));
    }
    await session.complete();
    return finishReport(report, startedAt);
  } finally {
    await target?.close();
  }
}

/** Remaining time to live of an entry of the file at `now`. */
function ttlOf(entry: JsonlEntry, now: number): number | undefined {
  if (entry.expiresAt !== undefined) return entry.expiresAt - now;
  return entry.ttlMs;
}

/** What the target should hold for each live line of the file. */
async function* fileDigests(file: string, now: number): AsyncGenerator<KeyDigest> {
  for await (const item of readJsonl(file)) {
    if (!('entry' in item)) continue;
    const { entry } = item as NumberedEntry;
    const ttl = ttlOf(entry, now);
    if (ttl !== undefined && ttl <= 0) continue;
    const d: KeyDigest = { key: entry.key, digest: checksum(prepareValue(entry.key, entry.value), ttl !== undefined) };
    if (entry.expiresAt !== undefined) d.expiresAt = entry.expiresAt;
    yield d;
  }
}
