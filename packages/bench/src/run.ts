/**
 * The bench run: for every selected backend, a fresh store; every workload on every subject
 * that can do it (ours, raw drivers, peers); then ratios, targets and recommendations.
 */
import { measure, type Measurement } from './harness/measure.js';
import { measureInProcesses } from './harness/processes.js';
import { LatencyRecorder } from './harness/stats.js';
import { machineInfo } from './machine.js';
import { PROFILES, type Profile } from './profile.js';
import { recommend } from './recommend.js';
import type { BenchReport, CaseResult } from './results.js';
import { createStore, destroyStore, redisAnswers, redisUrlFromEnv } from './stores.js';
import { attachRatios, judgeTargets } from './targets.js';
import { SUBJECTS } from './subjects/catalog.js';
import type { BenchBackend, StoreRef, Subject, SubjectSpec } from './subjects/types.js';
import { allWorkloads } from './workloads/catalog.js';
import type { Workload } from './workloads/types.js';
import { startFirebaseEmulator, type FirebaseEmulator } from './firebase-emulator.js';

/** Options of {@link runBench}. */
export interface RunOptions {
  /** Backends to run; default file, sqlite, and redis when it answers. */
  backends?: readonly BenchBackend[];
  /** Sizes and durations; default `full`. */
  profile?: Profile | Profile['name'];
  /** Only these workload ids (default: all). */
  workloads?: readonly string[];
  /** Called before each case (progress display). */
  onCase?: (event: { index: number; total: number; name: string }) => void;
  /** Called with notes for the person watching (skips, failures). */
  onNote?: (note: string) => void;
}

/** A planned case: a workload on a subject. */
interface Planned {
  workload: Workload;
  spec: SubjectSpec;
}

/** The workloads `spec` can run. */
export function canRun(workload: Workload, spec: SubjectSpec, backend: BenchBackend): boolean {
  if (spec.only && !spec.only.includes(workload.id)) return false;
  if (!workload.needs.every((n) => spec.capabilities.includes(n))) return false;
  // The multi-process cases compare ours with the raw driver (and lock peers) only, to keep runs short.
  if (workload.custom && spec.kind !== 'ours') return false;
  if (workload.id === 'ycsb-a-procs' && spec.kind === 'peer') return false;
  // The memory backend lives in one process.
  if (backend === 'memory' && (workload.custom || workload.axis(PROFILES.test).processes > 1)) return false;
  return true;
}

/** Default backends: file and SQLite always, Redis when it answers, Firebase only when configured. */
export async function defaultBackends(env: NodeJS.ProcessEnv = process.env): Promise<BenchBackend[]> {
  const backends: BenchBackend[] = ['file', 'sqlite'];
  if (await redisAnswers(redisUrlFromEnv(env))) backends.push('redis');
  if (env['FIREBASE_DATABASE_EMULATOR_HOST'] || env['AGENT_STATE_BENCH_FIREBASE_URL']) backends.push('firebase');
  return backends;
}

/** Runs the bench and returns its report (no files written; see `writeReport`). */
export async function runBench(options: RunOptions = {}): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const profile = typeof options.profile === 'object' ? options.profile : PROFILES[options.profile ?? 'full'];
  const backends = options.backends ?? (await defaultBackends());
  const workloads = allWorkloads(profile).filter((w) => !options.workloads || options.workloads.includes(w.id));
  const note = options.onNote ?? (() => undefined);
  const plans = new Map(
    backends.map((b) => [b, workloads.flatMap((workload) => SUBJECTS[b].filter((spec) => canRun(workload, spec, b)).map((spec) => ({ workload, spec })))]),
  );
  const total = [...plans.values()].reduce((s, p) => s + p.length, 0);
  let index = 0;
  const cases: CaseResult[] = [];
  const backendStatus: BenchReport['backends'] = [];

  for (const backend of backends) {
    const plan = plans.get(backend) ?? [];
    let emulator: FirebaseEmulator | undefined;
    let store: StoreRef | undefined;
    const opened = new Map<string, Subject | Error>();
    try {
      if (backend === 'firebase') emulator = await startFirebaseEmulator();
      store = createStore(backend, {
        ...(backend === 'redis' && { redisUrl: redisUrlFromEnv() }),
        ...(emulator && { firebase: emulator.ref }),
      });
      const ready = await openSubject(SUBJECTS[backend][0]!, store, opened);
      if (ready instanceof Error) {
        backendStatus.push({ name: backend, status: 'skipped', note: ready.message });
        note(`${backend}: skipped (${ready.message})`);
        index += plan.length;
        continue;
      }
      backendStatus.push({ name: backend, status: 'ran' });
      const prepared = new Set<string>();
      for (const { workload, spec } of plan) {
        options.onCase?.({ index: index++, total, name: `${backend} ${workload.id} ${spec.id}` });
        cases.push(await runCase(workload, spec, store, profile, opened, prepared, note));
      }
    } finally {
      for (const subject of opened.values()) if (!(subject instanceof Error)) await subject.close().catch(() => undefined);
      if (store) await destroyStore(store).catch((error: unknown) => note(`${backend}: cleanup failed: ${String(error)}`));
      await emulator?.stop();
    }
  }
  options.onCase?.({ index: total, total, name: 'done' });
  attachRatios(cases);
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    profile: profile.name,
    machine: machineInfo(),
    backends: backendStatus,
    cases,
    targets: judgeTargets(cases, backendStatus.filter((b) => b.status === 'ran').map((b) => b.name)),
    recommendations: recommend(cases),
  };
}

async function openSubject(spec: SubjectSpec, store: StoreRef, opened: Map<string, Subject | Error>): Promise<Subject | Error> {
  let subject = opened.get(spec.id);
  if (subject === undefined) {
    subject = await spec.open(store).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    opened.set(spec.id, subject);
  }
  return subject;
}

async function runCase(
  workload: Workload,
  spec: SubjectSpec,
  store: StoreRef,
  profile: Profile,
  opened: Map<string, Subject | Error>,
  prepared: Set<string>,
  note: (text: string) => void,
): Promise<CaseResult> {
  const axis = workload.axis(profile);
  const base: CaseResult = { backend: store.backend, workload: workload.id, subject: spec.id, kind: spec.kind, label: spec.label, axis, status: 'ok' };
  try {
    const subject = await openSubject(spec, store, opened);
    if (subject instanceof Error) throw subject;
    if (workload.setup && !prepared.has(`${spec.id}:${workload.setup.key}`)) {
      await workload.setup.run(subject, profile);
      prepared.add(`${spec.id}:${workload.setup.key}`);
    }
    if (workload.custom) {
      const outcome = await workload.custom(store, profile, subject);
      const summarize = (values: number[]) => {
        const r = new LatencyRecorder();
        for (const v of values) r.recordMs(v);
        return r.summary();
      };
      const opsPerSec = outcome.elapsedMs > 0 ? (outcome.ops * 1000) / outcome.elapsedMs : 0;
      return {
        ...base,
        throughput: { median: opsPerSec, min: opsPerSec, max: opsPerSec },
        latency: summarize(outcome.latencies),
        series: Object.fromEntries(Object.entries(outcome.series).map(([k, v]) => [k, summarize(v)])),
        facts: outcome.facts,
      };
    }
    const measureOptions = { warmupMs: profile.warmupMs, runMs: profile.runMs, runs: profile.runs, inflight: axis.inflight };
    let m: Measurement;
    if (axis.processes > 1) {
      m = await measureInProcesses({ mode: 'kv', store, subjectId: spec.id, workloadId: workload.id, profile, seed: 1000 }, axis.processes, measureOptions);
    } else {
      const op = await workload.prepare!(subject, { profile, processIndex: 0, seed: 42 });
      try {
        m = await measure(op.op, measureOptions);
      } finally {
        await op.teardown?.();
      }
    }
    return { ...base, throughput: m.throughput, latency: m.latency };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    note(`${store.backend} ${workload.id} ${spec.id}: failed: ${message}`);
    return { ...base, status: 'failed', note: message };
  }
}
