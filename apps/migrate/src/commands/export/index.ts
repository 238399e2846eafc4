import { closeSync, existsSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync, fstatSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { MigrateError } from '../../errors.js';
import { checkpointPath, readCheckpoint, removeCheckpoint, writeCheckpoint, type Checkpoint } from '../../lib/checkpoint.js';
import { endpointId, openEndpoint, resolveEndpoint } from '../../lib/endpoint.js';
import { prepareValue, remainingTtl } from '../../lib/entries.js';
import { JSONL_FORMAT, JSONL_VERSION, entryLine, familyLine, readJsonl, type JsonlEntry, type JsonlHeader } from '../../lib/jsonl.js';
import { compareFamilyLists, nativeFamiliesOf, readFamilies, scanFamilies, type FamilyItem, type NativeFamilies } from '../../lib/families.js';
import { DEFAULT_BATCH_SIZE, emptyReport, finishReport, recordCopy, type CommonOptions, type MigrationReport } from '../../lib/report.js';
import { Scanner } from '../../lib/scan.js';
import { listNamespace } from '../../lib/source.js';
import { SourceGuard, assertSourceIdle } from '../../lib/source-guard.js';
import { addFamilyDifferences, compareDigests, sourceDigests, type KeyDigest } from '../../lib/verify.js';
import { checksum } from '../../lib/entries.js';

/** Options of {@link exportState}. */
export interface ExportOptions extends Omit<CommonOptions, 'batchBytes'> {
  /** The JSONL file to write. */
  to: string;
  /** Source backend name (default: the one project.yml selects). */
  from?: string;
  fromConfig?: string;
  fromNamespace?: string;
}

/**
 * Writes every entry of the namespace to a JSONL file (see `lib/jsonl.ts` for the format). The
 * entries go to `<file>.partial` in key order, a batch at a time, with a checkpoint (last key,
 * file size) after each; a resumed run cuts the partial file back to the checkpoint's size, so
 * no line is written twice. At the end the header (with the exact count) and the lines become
 * `<file>` in one rename: the file either does not exist or is complete.
 */
export async function exportState(options: ExportOptions): Promise<MigrationReport> {
  const startedAt = Date.now();
  const cwd = resolve(options.cwd ?? process.cwd());
  if (!options.to) throw new MigrateError('USAGE', 'say where to export to: export --to <file.jsonl>');
  const file = resolve(cwd, options.to);
  const partial = `${file}.partial`;
  const from = resolveEndpoint(
    { ...(options.from !== undefined && { backend: options.from }), ...(options.fromConfig !== undefined && { configFile: options.fromConfig }), ...(options.fromNamespace !== undefined && { namespace: options.fromNamespace }) },
    cwd,
    options.env,
  );
  const checkpointFile = checkpointPath(cwd, from.label + (options.fromNamespace !== undefined ? `.${from.namespace}` : ''), `jsonl.${basename(file)}`);
  const resumeHint = `agent-state-migrate export --to ${options.to}${options.from ? ` --from ${options.from}` : ''}${options.fromConfig ? ` --from-config ${options.fromConfig}` : ''}${options.fromNamespace ? ` --from-namespace ${options.fromNamespace}` : ''} --resume`;
  let checkpoint = options.dryRun ? undefined : readCheckpoint(checkpointFile);
  if (!options.dryRun) {
    if (options.resume && !checkpoint) throw new MigrateError('CHECKPOINT', `nothing to resume: no checkpoint at ${checkpointFile}`);
    if (!options.resume && checkpoint) throw new MigrateError('CHECKPOINT', `an interrupted export is recorded in ${checkpointFile}: run \`${resumeHint}\` to finish it, or delete that file to start over`);
    if (!options.resume && existsSync(file) && !options.overwrite) throw new MigrateError('TARGET_NOT_EMPTY', `${file} exists: pass --overwrite to replace it`);
  }

  const source = await openEndpoint(from, cwd);
  try {
    const scanner = new Scanner();
    for await (const entry of listNamespace(source)) scanner.add(entry);
    const stats = scanner.stats;
    const families = nativeFamiliesOf(source);
    await scanFamilies(families, scanner);
    const report = emptyReport('export', endpointId(from), { file }, stats, options.dryRun === true);
    if (options.dryRun) return finishReport(report, startedAt);
    report.warnings = await assertSourceIdle(source, stats, options.force === true);

    const guard = await SourceGuard.acquire(source, { to: `jsonl:${file}`, startedAt, pid: process.pid }, options.lockTtlMs, options.resume === true);
    try {
      if (!checkpoint) {
        checkpoint = {
          format: 'agent-state-migrate-checkpoint', runId: String(startedAt), command: 'export', from: endpointId(from), to: { file },
          startedAt, phase: 'copying', cursor: null, copied: 0, skippedExpired: 0, bytes: 0, fileBytes: 0,
          hint: `interrupted: run \`${resumeHint}\` in this directory to finish`,
        };
        writeCheckpoint(checkpointFile, checkpoint);
      }
      report.resumed = options.resume === true;
      const copiedBefore = checkpoint.copied;
      const copyStartedAt = Date.now();
      if (checkpoint.phase === 'copying' && !existsSync(partial) && (checkpoint.fileBytes ?? 0) > 0) {
        // Killed between assembling the file and recording it: the file is complete.
        if (!existsSync(file)) throw new MigrateError('CHECKPOINT', `${partial} is gone but ${file} was never completed: delete ${checkpointFile} and export again`);
        checkpoint = { ...checkpoint, phase: 'verifying' };
      }
      if (checkpoint.phase === 'copying') {
        const copied = await copyToPartial(source, families, partial, checkpoint, checkpointFile, options, stats.entries, () => guard.check());
        checkpoint = copied.checkpoint;
        report.familyItems = copied.familyItems;
        const header: JsonlHeader = {
          format: JSONL_FORMAT, version: JSONL_VERSION, namespace: from.namespace, source: endpointId(from), exportedAt: checkpoint.startedAt, count: checkpoint.copied,
          ...(copied.familyItems > 0 && { familyItems: copied.familyItems }),
        };
        assemble(file, header, partial);
        checkpoint = { ...checkpoint, phase: 'verifying' };
        writeCheckpoint(checkpointFile, checkpoint);
        recordCopy(report, copyStartedAt, checkpoint.copied - copiedBefore);
      }
      Object.assign(report, { copied: checkpoint.copied, skippedExpired: checkpoint.skippedExpired, bytes: checkpoint.bytes });
      if (options.verify !== false) {
        report.verify = await compareDigests(sourceDigests(listNamespace(source)), fileDigests(file), (checked) =>
          options.onProgress?.({ phase: 'verify', done: checked, total: stats.entries }),
        );
        if (families.queues || families.logs) addFamilyDifferences(report.verify, await compareFamilyLists(fileFamilyItems(file), families));
      }
      removeCheckpoint(checkpointFile);
    } finally {
      await guard.release();
    }
    return finishReport(report, startedAt);
  } finally {
    await source.close();
  }
}

async function copyToPartial(
  source: Parameters<typeof listNamespace>[0],
  families: NativeFamilies,
  partial: string,
  start: Checkpoint,
  checkpointFile: string,
  options: ExportOptions,
  total: number,
  check: () => void,
): Promise<{ checkpoint: Checkpoint; familyItems: number }> {
  let checkpoint = start;
  let familyItems = 0;
  const fd = openSync(partial, existsSync(partial) ? 'r+' : 'w');
  try {
    // Lines written after the last checkpoint are cut off: they are written again below.
    ftruncateSync(fd, checkpoint.fileBytes ?? 0);
    let position = checkpoint.fileBytes ?? 0;
    let lines: string[] = [];
    let pending = { copied: 0, bytes: 0, skipped: 0, cursor: checkpoint.cursor };
    const flush = () => {
      if (lines.length === 0 && pending.cursor === checkpoint.cursor) return;
      const chunk = Buffer.from(lines.join(''));
      writeSync(fd, chunk, 0, chunk.length, position);
      position += chunk.length;
      checkpoint = {
        ...checkpoint,
        cursor: pending.cursor,
        copied: checkpoint.copied + pending.copied,
        bytes: checkpoint.bytes + pending.bytes,
        skippedExpired: checkpoint.skippedExpired + pending.skipped,
        fileBytes: position,
      };
      writeCheckpoint(checkpointFile, checkpoint);
      options.onProgress?.({ phase: 'copy', done: checkpoint.copied, total });
      lines = [];
      pending = { copied: 0, bytes: 0, skipped: 0, cursor: checkpoint.cursor };
    };
    const after = typeof checkpoint.cursor === 'string' ? checkpoint.cursor : undefined;
    for await (const entry of listNamespace(source, after)) {
      check();
      const now = Date.now();
      const ttlMs = remainingTtl(entry, now);
      pending.cursor = entry.key;
      if (ttlMs !== undefined && ttlMs <= 0) {
        pending.skipped++;
        continue;
      }
      const line: JsonlEntry = { key: entry.key, value: prepareValue(entry.key, entry.value) };
      if (entry.expiresAt !== undefined && ttlMs !== undefined) Object.assign(line, { expiresAt: entry.expiresAt, ttlMs });
      line.version = entry.version;
      const text = entryLine(line);
      lines.push(text);
      pending.copied++;
      pending.bytes += Buffer.byteLength(JSON.stringify(line.value));
      if (lines.length >= (options.batchSize ?? DEFAULT_BATCH_SIZE)) flush();
    }
    flush();
    // Native queue jobs and log records follow the entries, written whole and never
    // checkpointed: a resumed run cuts them off with everything after the last entry batch and
    // writes them again.
    for await (const item of readFamilies(families)) {
      check();
      const chunk = Buffer.from(familyLine(item));
      writeSync(fd, chunk, 0, chunk.length, position);
      position += chunk.length;
      familyItems++;
    }
  } finally {
    closeSync(fd);
  }
  return { checkpoint, familyItems };
}

/** The native queue jobs and log records of a JSONL file. */
async function* fileFamilyItems(file: string): AsyncGenerator<FamilyItem> {
  for await (const item of readJsonl(file)) if ('item' in item) yield item.item;
}

/** Header + the partial file's lines → `<file>.tmp` → renamed to `<file>`. */
function assemble(file: string, header: JsonlHeader, partial: string): void {
  const temp = `${file}.tmp`;
  const out = openSync(temp, 'w');
  try {
    writeSync(out, `${JSON.stringify(header)}\n`);
    const input = openSync(partial, 'r');
    try {
      const size = fstatSync(input).size;
      const buffer = Buffer.alloc(Math.min(8 * 1024 * 1024, Math.max(1, size)));
      let offset = 0;
      while (offset < size) {
        const n = readSync(input, buffer, 0, buffer.length, offset);
        if (n === 0) break;
        writeSync(out, buffer, 0, n);
        offset += n;
      }
    } finally {
      closeSync(input);
    }
  } finally {
    closeSync(out);
  }
  renameSync(temp, file);
  rmSync(partial, { force: true });
}

/** Digests of a JSONL file's entries, as the target (the file) holds them. */
export async function* fileDigests(file: string): AsyncGenerator<KeyDigest> {
  for await (const item of readJsonl(file)) {
    if (!('entry' in item)) continue;
    const { key, value, expiresAt } = item.entry;
    const d: KeyDigest = { key, digest: checksum(value, expiresAt !== undefined) };
    if (expiresAt !== undefined) d.expiresAt = expiresAt;
    yield d;
  }
}
