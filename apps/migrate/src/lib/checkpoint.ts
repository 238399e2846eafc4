import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrateError } from '../errors.js';

/** Folder, in the working directory, that holds the checkpoints of interrupted migrations. */
export const CHECKPOINT_DIR = '.agent-state-migrate';

/** Where a migration is; a copy resumes `after` the cursor (a key, or a JSONL line number). */
export type Phase = 'clearing' | 'copying' | 'verifying';

/**
 * The checkpoint of a migration, rewritten atomically (temp file + rename) after every committed
 * batch. For a backend target the batch's own commit also records the cursor on the target
 * (`@migration/progress`), which is the authority on resume: a run killed between the commit
 * and this file's rename loses nothing and copies nothing twice.
 */
export interface Checkpoint {
  format: 'agent-state-migrate-checkpoint';
  /** Random id of the run; the target's progress marker carries the same id. */
  runId: string;
  command: 'migrate' | 'export' | 'import';
  from: unknown;
  to: unknown;
  startedAt: number;
  phase: Phase;
  /** Last key (migrate, export) or JSONL line number (import) safely written; null = none yet. */
  cursor: string | number | null;
  copied: number;
  skippedExpired: number;
  bytes: number;
  /** Export only: size of the partial JSONL file at the cursor. */
  fileBytes?: number;
  /** What a person should run to finish. */
  hint: string;
}

/** The checkpoint file of a migration between two labels. */
export function checkpointPath(cwd: string, fromLabel: string, toLabel: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(cwd, CHECKPOINT_DIR, `${safe(fromLabel)}-${safe(toLabel)}.checkpoint.json`);
}

/** Reads a checkpoint, or `undefined` when there is none. A damaged file is an error, never ignored. */
export function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    if (data.format !== 'agent-state-migrate-checkpoint') throw new Error('not a migration checkpoint');
    return data;
  } catch (error) {
    throw new MigrateError('CHECKPOINT', `cannot read the checkpoint ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes the checkpoint atomically: a reader (or a resumed run) sees the old or the new one. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(checkpoint, null, 2)}\n`);
  renameSync(temp, path);
}

/** Removes a finished migration's checkpoint, and the folder when nothing else is in it. */
export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
  const dir = join(path, '..');
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // The folder is shared with other migrations' checkpoints; leaving it is harmless.
  }
}
