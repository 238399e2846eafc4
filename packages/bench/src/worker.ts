/**
 * Worker process of the multi-process cases (started by the harness with fork, never by hand):
 * `kv` runs a workload's operation in timed runs on the coordinator's signal; `swarm-agent` is one
 * agent of the swarm scenario.
 */
import { loadExtras } from './extras.js';
import { runFor } from './harness/measure.js';
import type { WorkerMessage } from './harness/processes.js';
import { LatencyRecorder } from './harness/stats.js';
import type { Profile } from './profile.js';
import { findSubject } from './subjects/catalog.js';
import { openOurs } from './subjects/ours.js';
import type { StoreRef } from './subjects/types.js';
import { findWorkload } from './workloads/catalog.js';

type Job =
  | { mode: 'kv'; store: StoreRef; subjectId: string; workloadId: string; profile: Profile; processIndex: number; seed: number; extras?: string[]; cwd?: string }
  | { mode: 'swarm-agent'; store: StoreRef; agentId: string; session: string };

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

async function kv(job: Extract<Job, { mode: 'kv' }>): Promise<void> {
  // The bench process gone (crash, kill) before its 'stop': nobody will send it.
  let finished = false;
  process.on('disconnect', () => {
    if (!finished) process.exit(1);
  });
  const extras = await loadExtras(job.extras ?? [], job.cwd);
  const spec = extras.subjects[job.store.backend]?.find((s) => s.id === job.subjectId) ?? findSubject(job.store.backend, job.subjectId);
  const subject = await spec.open(job.store);
  const workload = extras.workloads.find((w) => w.id === job.workloadId) ?? findWorkload(job.workloadId, job.profile);
  const prepared = await workload.prepare!(subject, { profile: job.profile, processIndex: job.processIndex, seed: job.seed });
  let chain = Promise.resolve();
  await new Promise<void>((resolve) => {
    process.on('message', (message: { type: string; ms?: number; inflight?: number }) => {
      chain = chain.then(async () => {
        if (message.type === 'run') {
          const recorder = new LatencyRecorder();
          const sample = await runFor(prepared.op, message.ms ?? 100, message.inflight ?? 1, recorder);
          send({ type: 'result', ops: sample.ops, elapsedMs: sample.elapsedMs, histogram: recorder.encode() });
        } else if (message.type === 'stop') {
          await prepared.teardown?.();
          await subject.close();
          finished = true;
          resolve();
        }
      });
      chain.catch((error: unknown) => {
        send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      });
    });
    send({ type: 'ready' });
  });
}

/** What a swarm task carries. */
interface SwarmTask {
  session: string;
  cycle: number;
  taskId: string;
  resource: number;
  enqueuedAt: number;
  /** The mailbox the result goes to. */
  replyTo: string;
}

/** How long after its first failure a swarm agent's step keeps retrying a busy or unreachable store. */
const SWARM_RETRY_DEADLINE_MS = 60_000;
const RETRY_PAUSE_MIN_MS = 50;
const RETRY_PAUSE_MAX_MS = 1_000;

/**
 * Runs `step`, again after a pause (50 ms doubling to 1 s) while it fails with
 * `BACKEND_UNAVAILABLE` (a SQLite database locked past its busy timeout by many processes at
 * once, a Postgres server out of connection slots, a reconnect), until
 * {@link SWARM_RETRY_DEADLINE_MS} after the FIRST failure: a step that legitimately waited long
 * (a dequeue with waitMs, a lock wait) and then met a busy store still gets its retries. Then, or
 * on any other error, or once `signal` is aborted, the error stands. Each retry is said on stderr.
 */
async function retrying<T>(what: string, step: (attempt: number) => Promise<T>, signal: AbortSignal, log: (line: string) => void): Promise<T> {
  let deadline: number | undefined;
  let pause = RETRY_PAUSE_MIN_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(attempt);
    } catch (error) {
      deadline ??= performance.now() + SWARM_RETRY_DEADLINE_MS;
      const code = (error as { code?: unknown }).code;
      if (code !== 'BACKEND_UNAVAILABLE' || signal.aborted || performance.now() + pause > deadline) throw error;
      log(`${what}: ${String((error as Error).message).split('\n')[0]}; retrying in ${pause} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      pause = Math.min(RETRY_PAUSE_MAX_MS, pause * 2);
    }
  }
}

/**
 * One swarm agent. Nothing polls: it blocks in `dequeue({ waitMs })` (woken by the backend's
 * notification), hears the channel through a subscription, sends each result to the
 * coordinator's mailbox, and answers the coordinator's IPC messages as they come.
 */
async function swarmAgent(job: Extract<Job, { mode: 'swarm-agent' }>): Promise<void> {
  const stop = new AbortController();
  const log = (line: string): void => void process.stderr.write(`${job.agentId}: ${line}\n`);
  const retry = <T>(what: string, step: (attempt: number) => Promise<T>): Promise<T> => retrying(what, step, stop.signal, log);
  // One of many processes: Postgres pool size 1 (one connection, LISTEN included).
  const state = await retry('open', () => openOurs(job.store, { agent: true }));
  const queue = state.queue(`agent-${job.agentId}`);
  const outbox = state.mailbox(job.agentId);
  const delivery: number[] = [];
  let leasesLost = 0;
  // The bench process gone (crash, kill): stop rather than wait forever.
  process.on('disconnect', () => stop.abort());
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') stop.abort();
    if (message.type === 'report') send({ type: 'data', values: { delivery: delivery.splice(0), leasesLost: [leasesLost] } });
  });
  await retry('register', () => state.agents.register(job.agentId, { role: 'agent', pid: process.pid }, { pid: process.pid }));
  let failure: unknown;
  const subscription = await retry('subscribe', () =>
    state.subscribe(
      'swarm',
      (_message, meta) => {
        delivery.push(Date.now() - meta.publishedAt);
      },
      {
        onError: (error) => {
          failure ??= error;
          stop.abort();
        },
      },
    ),
  );
  send({ type: 'ready' });
  while (!stop.signal.aborted) {
    let claimed;
    try {
      claimed = await retry('dequeue', () => queue.dequeue({ leaseMs: 30_000, waitMs: 5_000, signal: stop.signal }));
    } catch (error) {
      if (stop.signal.aborted) break;
      throw error;
    }
    if (!claimed) continue;
    const task = claimed.payload as unknown as SwarmTask;
    const assignmentMs = Date.now() - task.enqueuedAt;
    const lockStarted = performance.now();
    const lock = await retry('lock', () => state.lock(`swarm/resource-${task.resource}`, { ttlMs: 10_000, waitMs: 60_000 }));
    const lockMs = performance.now() - lockStarted;
    // A BACKEND_UNAVAILABLE from SQLite busy or a refused connection changed nothing: safe to run again.
    await retry('increment', () => state.increment(`swarm/${task.session}/resource-${task.resource}/uses`));
    // A lease that ran out while this process was starved of CPU: the increment is atomic on its
    // own, so the count stays right; it is counted and reported, not a crash.
    await lock.release().catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'LOCK_LOST') throw error;
      leasesLost++;
    });
    const result = { taskId: task.taskId, cycle: task.cycle, agentId: job.agentId, assignmentMs, lockMs };
    const resultKey = `swarm/${task.session}/results/${task.cycle}/${job.agentId}`;
    await retry('write result', async (attempt) => {
      try {
        await state.write(resultKey, result, { ifVersion: 'absent' });
      } catch (error) {
        // A retry after a failure that committed after all (a connection lost at COMMIT): ours is there.
        const stored = attempt > 1 && (error as { code?: string }).code === 'CONFLICT' ? await state.read(resultKey) : undefined;
        if ((stored?.value as { taskId?: string } | undefined)?.taskId !== task.taskId) throw error;
      }
    });
    // The coordinator keeps one result per agent and cycle: a duplicate send is harmless.
    await retry('send result', () => outbox.send(task.replyTo, result));
    await retry('ack', () => claimed.ack());
  }
  await subscription();
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  await state.agents.unregister(job.agentId);
  await state.close();
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
try {
  if (job.mode === 'kv') await kv(job);
  else if (job.mode === 'swarm-agent') await swarmAgent(job);
  else throw new Error(`unknown worker mode ${JSON.stringify((job as { mode?: unknown }).mode)}`);
  process.disconnect?.();
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
