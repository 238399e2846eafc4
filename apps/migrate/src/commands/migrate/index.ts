import { resolve } from 'node:path';
import type { StateClient } from '@agent-state/core';
import { MigrateError } from '../../errors.js';
import { checkpointPath, readCheckpoint } from '../../lib/checkpoint.js';
import { endpointId, openEndpoint, resolveEndpoint, type Endpoint } from '../../lib/endpoint.js';
import { prepareValue, remainingTtl } from '../../lib/entries.js';
import {
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_SIZE,
  emptyReport,
  finishReport,
  recordCopy,
  type CommonOptions,
  type MigrationReport,
} from '../../lib/report.js';
import { FamilyWriter, assertSameLayout, clearFamilies, compareFamilies, familiesAreEmpty, nativeFamiliesOf, orderForWrite, readFamilies, scanFamilies } from '../../lib/families.js';
import { Scanner } from '../../lib/scan.js';
import { listNamespace } from '../../lib/source.js';
import { SourceGuard, assertSourceIdle } from '../../lib/source-guard.js';
import { switchBackend } from '../../lib/switch-backend.js';
import { TargetSession } from '../../lib/target-session.js';
import { addFamilyDifferences, compareDigests, sourceDigests, targetDigests } from '../../lib/verify.js';

/** Options of {@link migrate}. */
export interface MigrateOptions extends CommonOptions {
  /** Source backend name; its settings come from project.yml (or `fromConfig`). */
  from?: string;
  /** A YAML file whose `communication` block describes the source. */
  fromConfig?: string;
  /** Source namespace; default the config's. */
  fromNamespace?: string;
  /** Target backend name; its settings come from project.yml (or `toConfig`). */
  to?: string;
  toConfig?: string;
  toNamespace?: string;
  /** After a verified copy, set `communication.backend` in project.yml to the target. */
  switch?: boolean;
}

/**
 * Copies every entry of the namespace from one backend to another (user keys, queues, agents,
 * mailboxes, counters, with their remaining TTL), in batches, resumable, then verifies every
 * key. The source is only read (besides the migration lock and marker).
 */
export async function migrate(options: MigrateOptions): Promise<MigrationReport> {
  const startedAt = Date.now();
  const cwd = resolve(options.cwd ?? process.cwd());
  if (options.from === undefined && options.fromConfig === undefined) throw new MigrateError('USAGE', 'say where to migrate from: --from <backend> or --from-config <file>');
  if (options.to === undefined && options.toConfig === undefined) throw new MigrateError('USAGE', 'say where to migrate to: --to <backend> or --to-config <file>');
  if (options.switch && options.verify === false) throw new MigrateError('USAGE', '--switch needs a verified copy: drop --no-verify');
  if (options.switch && options.toConfig !== undefined) throw new MigrateError('USAGE', '--switch rewrites project.yml to a backend name: use --to <backend>, not --to-config');

  const from = resolveEndpoint(spec(options.from, options.fromConfig, options.fromNamespace), cwd, options.env);
  const to = resolveEndpoint(spec(options.to, options.toConfig, options.toNamespace), cwd, options.env);
  if (sameSettings(from, to)) {
    throw new MigrateError('USAGE', `the source and the target are the same store (${from.backend}, namespace ${JSON.stringify(from.namespace)})`);
  }
  const fromLabel = from.label + (options.fromNamespace !== undefined ? `.${from.namespace}` : '');
  const toLabel = to.label + (options.toNamespace !== undefined ? `.${to.namespace}` : '');
  const checkpointFile = checkpointPath(cwd, fromLabel, toLabel);
  const resumeHint = `agent-state-migrate ${describeArgs(options)} --resume`;
  if (!options.dryRun && !options.resume && readCheckpoint(checkpointFile)) {
    throw new MigrateError('CHECKPOINT', `an interrupted migration is recorded in ${checkpointFile}: run \`${resumeHint}\` to finish it, or delete that file and start over with --overwrite`);
  }

  const source = await openEndpoint(from, cwd);
  let target: StateClient | undefined;
  try {
    const scanner = new Scanner();
    for await (const entry of listNamespace(source)) {
      scanner.add(entry);
      if (scanner.stats.entries % 1_000 === 0) options.onProgress?.({ phase: 'scan', done: scanner.stats.entries });
    }
    const stats = scanner.stats;
    const sourceFamilies = nativeFamiliesOf(source);
    await scanFamilies(sourceFamilies, scanner);
    const report = emptyReport('migrate', endpointId(from), endpointId(to), stats, options.dryRun === true);
    // Dry run: the target is not even opened (opening a file or SQLite store may create it).
    if (options.dryRun) return finishReport(report, startedAt);

    report.warnings = await assertSourceIdle(source, stats, options.force === true);
    target = await openEndpoint(to, cwd);
    if (from.backend === to.backend && from.namespace === to.namespace) {
      const [a, b] = await Promise.all([source.health(), target.health()]);
      if (a.target === b.target) throw new MigrateError('USAGE', `the source and the target are the same store (${a.target}, namespace ${JSON.stringify(from.namespace)})`);
    }

    const targetFamilies = nativeFamiliesOf(target);
    assertSameLayout(sourceFamilies, targetFamilies, (message) => {
      throw new MigrateError('USAGE', message);
    });
    if (!options.resume && !options.overwrite && !(await familiesAreEmpty(targetFamilies))) {
      throw new MigrateError('TARGET_NOT_EMPTY', `the target namespace ${JSON.stringify(target.namespace)} on ${target.backendName} holds queue jobs or log records: pass --overwrite to replace its contents`);
    }
    const guard = await SourceGuard.acquire(source, { to: `${to.backend}:${to.namespace}`, startedAt, pid: process.pid }, options.lockTtlMs, options.resume === true);
    try {
      const session = await TargetSession.open({
        state: target,
        checkpointFile,
        command: 'migrate',
        from: endpointId(from),
        to: endpointId(to),
        resume: options.resume === true,
        overwrite: options.overwrite === true,
        batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
        batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
        resumeHint,
        onBatch: (copied) => options.onProgress?.({ phase: 'copy', done: copied, total: stats.entries }),
      });
      report.resumed = options.resume === true;
      const copiedBefore = session.copied;
      if (!session.copyDone) {
        const copyStartedAt = Date.now();
        const after = typeof session.cursor === 'string' ? session.cursor : undefined;
        for await (const entry of listNamespace(source, after)) {
          guard.check();
          const ttlMs = remainingTtl(entry, Date.now());
          if (ttlMs !== undefined && ttlMs <= 0) {
            session.skipExpired(entry.key);
            continue;
          }
          await session.add({ key: entry.key, value: prepareValue(entry.key, entry.value), ...(ttlMs !== undefined && { ttlMs }) }, entry.key);
        }
        await session.flush();
        // Native queues and logs (outside the keys): copied whole after the keys. A run killed
        // in this phase is resumed by clearing what reached the target and copying them again.
        if (options.resume || options.overwrite) await clearFamilies(targetFamilies);
        const writer = new FamilyWriter(targetFamilies);
        for (const item of await orderForWrite(readFamilies(sourceFamilies))) {
          guard.check();
          await writer.add(item);
        }
        await writer.flush();
        report.familyItems = writer.written;
        await session.finishCopy();
        recordCopy(report, copyStartedAt, session.copied - copiedBefore + writer.written);
      }
      Object.assign(report, { copied: session.copied, skippedExpired: session.skippedExpired, bytes: session.bytes });

      if (options.verify !== false) {
        report.verify = await compareDigests(sourceDigests(listNamespace(source)), targetDigests(listNamespace(target)), (checked) =>
          options.onProgress?.({ phase: 'verify', done: checked, total: stats.entries }),
        );
        addFamilyDifferences(report.verify, await compareFamilies(sourceFamilies, targetFamilies));
      }
      await session.complete();
      finishReport(report, startedAt);
      if (options.switch && report.ok) {
        if (to.source === 'defaults' || to.source === 'config') throw new MigrateError('CONFIG', '--switch: there is no project.yml to rewrite (none found from the working directory)');
        // The source is marked before project.yml changes: a client that reads the old
        // project.yml is refused from now on and reopens on the new backend.
        await guard.markSwitched(`${to.backend}:${to.namespace}`, String(startedAt));
        report.switched = switchBackend(to.source, to.backend, options.toNamespace !== undefined ? to.namespace : undefined);
      }
    } finally {
      await guard.release();
    }
    return report;
  } finally {
    await Promise.allSettled([source.close(), target?.close()]);
  }
}

function spec(backend: string | undefined, configFile: string | undefined, namespace: string | undefined) {
  return {
    ...(backend !== undefined && { backend }),
    ...(configFile !== undefined && { configFile }),
    ...(namespace !== undefined && { namespace }),
  };
}

function sameSettings(a: Endpoint, b: Endpoint): boolean {
  return a.backend === b.backend && a.namespace === b.namespace && JSON.stringify(a.config.settings) === JSON.stringify(b.config.settings);
}

/** The command line that names this migration, for the resume hint. */
function describeArgs(o: MigrateOptions): string {
  const parts: string[] = [];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined) parts.push(flag, /^[\w./@:-]+$/.test(value) ? value : JSON.stringify(value));
  };
  add('--from', o.from);
  add('--from-config', o.fromConfig);
  add('--from-namespace', o.fromNamespace);
  add('--to', o.to);
  add('--to-config', o.toConfig);
  add('--to-namespace', o.toNamespace);
  return parts.join(' ');
}
