/**
 * The multi-process axis: worker processes (dist/worker.js) open the same store, wait until all
 * are ready, then run each timed run together on the coordinator's signal, so process start-up
 * and imports are never timed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LatencyRecorder } from './stats.js';
import { summarize, type Measurement, type MeasureOptions, type RunSample } from './measure.js';

/** The compiled worker script (the same path from src/ and dist/). */
export const WORKER_PATH = fileURLToPath(new URL('../../dist/worker.js', import.meta.url));

/** Messages a worker sends. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'result'; ops: number; elapsedMs: number; histogram: string }
  | { type: 'data'; values: Record<string, number[]> }
  | { type: 'error'; message: string };

/** Starts one worker with `job` (JSON) and an IPC channel. */
export function startWorker(job: unknown): ChildProcess {
  if (!existsSync(WORKER_PATH)) throw new Error(`${WORKER_PATH} is missing: build the bench first (npm run build -w @agent-state/bench)`);
  return fork(WORKER_PATH, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Resolves with the next message of `type` from `child`; rejects on an error message, exit or timeout. */
export function nextMessage<T extends WorkerMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<WorkerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: WorkerMessage): void => {
      if (message.type === 'error') {
        done();
        reject(new Error(`worker ${child.pid}: ${message.message}`));
      } else if (message.type === type) {
        done();
        resolve(message as Extract<WorkerMessage, { type: T }>);
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`worker ${child.pid} exited (${code}) before sending '${type}'`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`worker ${child.pid} sent no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** A worker that was gone, or failed, when {@link stopWorkers} asked it to stop. */
export interface DeadWorker {
  pid: number | undefined;
  /** Its exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What happened: exited before the stop, or the stop could not be sent (EPIPE: its channel closed). */
  note: string;
}

/** Where {@link stopWorkers} says which workers were dead (stderr by default). */
export type DeadWorkerReporter = (dead: DeadWorker) => void;

const reportOnStderr: DeadWorkerReporter = (dead) => {
  process.stderr.write(`bench: worker ${dead.pid ?? '?'} ${dead.note} (exit code ${dead.code ?? '-'}, signal ${dead.signal ?? '-'})\n`);
};

/**
 * Asks every worker to stop and waits for them to exit (SIGKILL after `graceMs`). Never throws
 * for a worker that died early: sending to it may fail (EPIPE, channel closed), which is
 * reported through `report` and in the result, as is a worker already gone or one that exits
 * with a non-zero code or a signal. Resolves with those dead workers.
 */
export async function stopWorkers(children: ChildProcess[], graceMs = 10_000, report: DeadWorkerReporter = reportOnStderr): Promise<DeadWorker[]> {
  const dead: DeadWorker[] = [];
  const died = (child: ChildProcess, note: string): void => {
    const entry = { pid: child.pid, code: child.exitCode, signal: child.signalCode, note };
    dead.push(entry);
    report(entry);
  };
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          // A send to a worker whose channel broke emits 'error' (EPIPE) on the child: never unhandled.
          const onError = (error: Error): void => {
            if (!dead.some((d) => d.pid === child.pid)) died(child, `could not be asked to stop (${(error as NodeJS.ErrnoException).code ?? error.message})`);
            child.kill('SIGKILL');
          };
          child.on('error', onError);
          if (child.exitCode !== null || child.signalCode !== null) {
            if (child.exitCode !== 0) died(child, 'had exited before the stop');
            child.off('error', onError);
            return resolve();
          }
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', (code, signal) => {
            clearTimeout(timer);
            if ((code !== 0 || signal !== null) && !dead.some((d) => d.pid === child.pid)) died(child, signal === 'SIGKILL' ? 'was killed after the grace period' : 'failed while stopping');
            // Late 'error' events of a dead channel stay handled.
            setImmediate(() => child.off('error', onError));
            resolve();
          });
          if (!child.connected) {
            child.kill('SIGTERM');
            return;
          }
          try {
            child.send({ type: 'stop' }, (error) => {
              if (error) onError(error);
            });
          } catch (error) {
            onError(error as Error);
          }
        }),
    ),
  );
  return dead;
}

/**
 * Runs a timed-loop job in `processes` workers: warm-up, then `runs` runs started together.
 * Throughput of a run = all workers' operations / the slowest worker's elapsed time.
 */
export async function measureInProcesses(job: object, processes: number, options: MeasureOptions): Promise<Measurement> {
  const children = Array.from({ length: processes }, (_, i) => startWorker({ ...job, processIndex: i }));
  try {
    await Promise.all(children.map((c) => nextMessage(c, 'ready', 60_000)));
    const runOnce = async (ms: number): Promise<{ sample: RunSample; recorder: LatencyRecorder }> => {
      const replies = children.map((c) => nextMessage(c, 'result', ms + 120_000));
      for (const c of children) c.send({ type: 'run', ms, inflight: options.inflight });
      const results = await Promise.all(replies);
      const recorder = new LatencyRecorder();
      for (const r of results) recorder.add(LatencyRecorder.decode(r.histogram));
      const ops = results.reduce((s, r) => s + r.ops, 0);
      const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
      return { sample: { ops, elapsedMs, opsPerSec: (ops * 1000) / elapsedMs }, recorder };
    };
    if (options.warmupMs > 0) await runOnce(options.warmupMs);
    const all = new LatencyRecorder();
    const runs: RunSample[] = [];
    for (let i = 0; i < options.runs; i++) {
      const { sample, recorder } = await runOnce(options.runMs);
      runs.push(sample);
      all.add(recorder);
      options.onRun?.(i + 1);
    }
    return summarize(runs, all);
  } finally {
    await stopWorkers(children);
  }
}
