import { randomBytes } from 'node:crypto';
import { SWITCHED_MARKER_KEY, type JsonValue, type StateClient } from '@agent-state/core';
import { MigrateError } from '../errors.js';
import { readCheckpoint, removeCheckpoint, writeCheckpoint, type Checkpoint, type Phase } from './checkpoint.js';
import { TARGET_PROGRESS_KEY } from './entries.js';
import { listNamespace, namespaceIsEmpty } from './source.js';

/** One entry to write on the target, with the source position it comes from. */
export interface TargetWrite {
  key: string;
  value: JsonValue;
  /** Serialized value, for batch sizing (computed when absent). */
  json?: string;
  /** Remaining time to live; none when absent. */
  ttlMs?: number;
}

/** Options of {@link TargetSession.open}. */
export interface TargetSessionOptions {
  state: StateClient;
  checkpointFile: string;
  command: Checkpoint['command'];
  from: unknown;
  to: unknown;
  resume: boolean;
  overwrite: boolean;
  /** Writes per transaction. */
  batchSize: number;
  /** A batch is committed once its values reach this many bytes. */
  batchBytes: number;
  /** The command a person runs to finish after an interruption. */
  resumeHint: string;
  onBatch?: (copied: number) => void;
}

/** The progress marker kept on the target, written in the same commit as every batch. */
interface ProgressMarker {
  runId: string;
  from: unknown;
  phase: Phase;
  cursor: string | number | null;
  copied: number;
  skippedExpired: number;
  bytes: number;
  [field: string]: JsonValue | unknown;
}

/**
 * The writing side of a migration into a backend: checks the target may be written (empty, or
 * `--overwrite`, or the run being resumed), then commits the copy in batches. Each batch is ONE
 * transaction holding its entries and the new cursor (`@migration/progress`), so after a kill -9
 * the target holds exactly the batches whose cursor it records: resuming after that cursor
 * neither copies an entry twice nor misses one. The checkpoint file in the working directory
 * says how to resume and survives for a person to read.
 */
export class TargetSession {
  #pending: TargetWrite[] = [];
  #pendingBytes = 0;
  #lastCursor: string | number | null;

  private constructor(
    private readonly options: TargetSessionOptions,
    private checkpoint: Checkpoint,
    /** True when the copy was already complete (killed during verify): nothing left to copy. */
    readonly copyDone: boolean,
  ) {
    this.#lastCursor = checkpoint.cursor;
  }

  /** Where the copy continues: after this key or line (`null`: from the start). */
  get cursor(): string | number | null {
    return this.checkpoint.cursor;
  }
  get copied(): number {
    return this.checkpoint.copied;
  }
  get skippedExpired(): number {
    return this.checkpoint.skippedExpired;
  }
  get bytes(): number {
    return this.checkpoint.bytes;
  }
  get resumed(): boolean {
    return this.options.resume;
  }

  /** Checks the target and the checkpoint, clears the target for `--overwrite`, and starts or resumes. */
  static async open(options: TargetSessionOptions): Promise<TargetSession> {
    const { state, checkpointFile } = options;
    const existing = readCheckpoint(checkpointFile);
    const marker = (await state.read(TARGET_PROGRESS_KEY))?.value as ProgressMarker | undefined;

    if (options.resume) {
      if (!existing) throw new MigrateError('CHECKPOINT', `nothing to resume: no checkpoint at ${checkpointFile}`);
      if (marker?.runId === existing.runId) {
        // The target's marker was written in the same commit as the last batch: it is the truth.
        const checkpoint: Checkpoint = { ...existing, cursor: marker.cursor, copied: marker.copied, skippedExpired: marker.skippedExpired, bytes: marker.bytes, phase: marker.phase };
        const session = new TargetSession(options, checkpoint, marker.phase === 'verifying');
        if (checkpoint.phase === 'clearing') await session.#clear();
        return session;
      }
      if (existing.phase === 'verifying') return new TargetSession(options, existing, true);
      if (existing.copied === 0 && existing.cursor === null && marker === undefined) {
        // Killed before the first write reached the target: start this run again from nothing.
        return TargetSession.#start(options, existing.runId, false);
      }
      throw new MigrateError(
        'CHECKPOINT',
        `the target does not hold the progress of run ${existing.runId} (${checkpointFile}): it was changed since; start over with --overwrite (after deleting the checkpoint)`,
      );
    }

    if (existing) {
      throw new MigrateError(
        'CHECKPOINT',
        `an interrupted migration is recorded in ${checkpointFile}: run \`${options.resumeHint}\` to finish it, or delete that file and start over with --overwrite`,
      );
    }
    if (!options.overwrite) {
      if (marker !== undefined) {
        throw new MigrateError('TARGET_NOT_EMPTY', `the target holds an unfinished migration (run ${String(marker.runId)}): finish it with --resume where it was started, or start over with --overwrite`);
      }
      if (!(await namespaceIsEmpty(state))) {
        throw new MigrateError('TARGET_NOT_EMPTY', `the target namespace ${JSON.stringify(state.namespace)} on ${state.backendName} is not empty: pass --overwrite to replace its contents`);
      }
    }
    return TargetSession.#start(options, randomBytes(6).toString('hex'), options.overwrite);
  }

  static async #start(options: TargetSessionOptions, runId: string, clear: boolean): Promise<TargetSession> {
    const checkpoint: Checkpoint = {
      format: 'agent-state-migrate-checkpoint',
      runId,
      command: options.command,
      from: options.from,
      to: options.to,
      startedAt: Date.now(),
      phase: clear ? 'clearing' : 'copying',
      cursor: null,
      copied: 0,
      skippedExpired: 0,
      bytes: 0,
      hint: `interrupted: run \`${options.resumeHint}\` in this directory to finish`,
    };
    // The checkpoint exists before the first write to the target, so no write is ever unexplained.
    writeCheckpoint(options.checkpointFile, checkpoint);
    const session = new TargetSession(options, checkpoint, false);
    await options.state.write(TARGET_PROGRESS_KEY, session.#marker() as JsonValue);
    if (clear) await session.#clear();
    return session;
  }

  /** Queues one entry; commits a batch when it is full. `cursor` is the source position of the entry. */
  async add(write: TargetWrite, cursor: string | number): Promise<void> {
    const json = write.json ?? JSON.stringify(write.value);
    this.#pending.push(write);
    this.#pendingBytes += json.length;
    this.#lastCursor = cursor;
    if (this.#pending.length >= this.options.batchSize || this.#pendingBytes >= this.options.batchBytes) await this.flush();
  }

  /** Moves the cursor past an entry that is not copied (it expired before its turn). */
  skipExpired(cursor: string | number): void {
    this.checkpoint.skippedExpired++;
    this.#lastCursor = cursor;
  }

  /** Commits the queued entries and the cursor in one transaction, then rewrites the checkpoint. */
  async flush(): Promise<void> {
    const batch = this.#pending;
    if (batch.length === 0 && this.#lastCursor === this.checkpoint.cursor) return;
    const next: Checkpoint = {
      ...this.checkpoint,
      cursor: this.#lastCursor,
      copied: this.checkpoint.copied + batch.length,
      bytes: this.checkpoint.bytes + this.#pendingBytes,
    };
    const marker = this.#marker(next);
    await this.options.state.transaction((tx) => {
      for (const w of batch) tx.write(w.key, w.value, w.ttlMs !== undefined ? { ttlMs: w.ttlMs } : undefined);
      tx.write(TARGET_PROGRESS_KEY, marker as JsonValue);
    });
    this.#pending = [];
    this.#pendingBytes = 0;
    this.checkpoint = next;
    writeCheckpoint(this.options.checkpointFile, next);
    this.options.onBatch?.(next.copied);
  }

  /** The copy is complete: flush, and record that only verification is left. */
  async finishCopy(): Promise<void> {
    await this.flush();
    this.checkpoint = { ...this.checkpoint, phase: 'verifying' };
    await this.options.state.write(TARGET_PROGRESS_KEY, this.#marker() as JsonValue);
    writeCheckpoint(this.options.checkpointFile, this.checkpoint);
  }

  /** Done: removes the progress marker from the target and the checkpoint file. */
  async complete(): Promise<void> {
    await this.options.state.delete(TARGET_PROGRESS_KEY);
    // A store that was once switched away from and is now a migration's target is live again.
    await this.options.state.delete(SWITCHED_MARKER_KEY);
    removeCheckpoint(this.options.checkpointFile);
  }

  /** `--overwrite`: deletes what the target namespace holds (in batches), keeping the progress marker. */
  async #clear(): Promise<void> {
    const keys: string[] = [];
    for await (const entry of listNamespace(this.options.state)) keys.push(entry.key);
    for (let i = 0; i < keys.length; i += this.options.batchSize) {
      const slice = keys.slice(i, i + this.options.batchSize);
      await this.options.state.transaction((tx) => {
        for (const key of slice) tx.delete(key);
      });
    }
    this.checkpoint = { ...this.checkpoint, phase: 'copying' };
    await this.options.state.write(TARGET_PROGRESS_KEY, this.#marker() as JsonValue);
    writeCheckpoint(this.options.checkpointFile, this.checkpoint);
  }

  #marker(checkpoint: Checkpoint = this.checkpoint): ProgressMarker {
    return {
      runId: checkpoint.runId,
      from: checkpoint.from,
      phase: checkpoint.phase,
      cursor: checkpoint.cursor,
      copied: checkpoint.copied,
      skippedExpired: checkpoint.skippedExpired,
      bytes: checkpoint.bytes,
    };
  }
}
