import type { ScanStats } from './scan.js';
import type { SwitchResult } from './switch-backend.js';
import type { VerifyReport } from './verify.js';

/** Progress of a running migration, for a progress bar. */
export interface Progress {
  phase: 'scan' | 'copy' | 'verify';
  done: number;
  /** Known for copy and verify (the scanned entry count). */
  total?: number;
}

/** Options every command takes besides its own. */
export interface CommonOptions {
  /** Working directory: where project.yml is searched and checkpoints are kept; default `process.cwd()`. */
  cwd?: string;
  /** Environment for `${VAR}` in config files; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Count and size only; nothing is written anywhere. */
  dryRun?: boolean;
  /** Compare every key on both sides after the copy; default true. */
  verify?: boolean;
  /** Continue an interrupted run from its checkpoint. */
  resume?: boolean;
  /** Replace what the target holds. */
  overwrite?: boolean;
  /** Migrate even while the source shows running agents or claimed jobs. */
  force?: boolean;
  /** Writes per target transaction; default 500. */
  batchSize?: number;
  /** A batch is committed once its values reach this many bytes; default 4 MiB. */
  batchBytes?: number;
  /** Lease of the migration lock on the source, in ms; default 60 000. */
  lockTtlMs?: number;
  /** Called as the run progresses. */
  onProgress?: (progress: Progress) => void;
}

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

/** What a command returns (and `--json` prints). */
export interface MigrationReport {
  command: 'migrate' | 'export' | 'import';
  /** True when the copy completed and (if verified) no key differs. */
  ok: boolean;
  dryRun: boolean;
  from: unknown;
  to: unknown;
  /** What the source holds (for import: the file). */
  stats: ScanStats;
  /** Problems `--force` overrode. */
  warnings: string[];
  resumed: boolean;
  /** Entries copied (keys), plus native queue jobs and log records in `familyItems`. */
  copied: number;
  /** Native queue jobs and log records copied (they live outside the keys). */
  familyItems?: number;
  skippedExpired: number;
  bytes: number;
  /** Whole run, in ms. */
  durationMs: number;
  /** The copy alone, in ms (this run's part when resumed). */
  copyMs: number;
  /** Entries copied per second during the copy. */
  entriesPerSecond: number;
  verify?: VerifyReport;
  switched?: SwitchResult;
}

/** A new report with nothing done yet. */
export function emptyReport(command: MigrationReport['command'], from: unknown, to: unknown, stats: ScanStats, dryRun: boolean): MigrationReport {
  return { command, ok: true, dryRun, from, to, stats, warnings: [], resumed: false, copied: 0, skippedExpired: 0, bytes: 0, durationMs: 0, copyMs: 0, entriesPerSecond: 0 };
}

/** Records how long the copy took and its rate (entries copied by this run per second). */
export function recordCopy(report: MigrationReport, copyStartedAt: number, copiedThisRun: number): void {
  report.copyMs = Date.now() - copyStartedAt;
  report.entriesPerSecond = report.copyMs > 0 ? Math.round((copiedThisRun * 1000) / report.copyMs) : copiedThisRun;
}

/** Fills in the total duration and the outcome. */
export function finishReport(report: MigrationReport, startedAt: number): MigrationReport {
  report.durationMs = Date.now() - startedAt;
  report.ok = report.verify ? report.verify.ok : true;
  return report;
}
