/**
 * The bench run: for every selected backend, a fresh store; every workload on every subject
 * that can do it (ours, raw drivers, peers); then ratios, targets and recommendations.
 */
import { groupByWorkload, openSubject, runCase, runInterleaved, runSampled, type CaseContext } from './cases.js';
import { machineInfo } from './machine.js';
import { PROFILES, type Profile } from './profile.js';
import { recommend } from './recommend.js';
import type { BenchReport, CaseResult } from './results.js';
import { createStore, destroyStore, postgresAnswers, postgresUrlFromEnv, redisAnswers, redisUrlFromEnv } from './stores.js';
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
  /** Called after each case with its result (`done` cases of `total` so far). */
  onCaseDone?: (event: { done: number; total: number; name: string; result: CaseResult }) => void;
  /** Extra workloads (e.g. the server's HTTP/MCP cases), run after the built-in ones. */
  extraWorkloads?: readonly Workload[];
  /** Extra subjects per backend (e.g. ours through HTTP), offered to every workload. */
  extraSubjects?: Partial<Record<BenchBackend, readonly SubjectSpec[]>>;
  /** The modules those came from (`--extra`), loaded again by worker processes. */
  extraModules?: readonly string[];
  /** Called with notes for the person watching (skips, failures). */
  onNote?: (note: string) => void;
}

/** The workloads `spec` can run. */
export function canRun(workload: Workload, spec: SubjectSpec, backend: BenchBackend): boolean {
  if (spec.only && !spec.only.includes(workload.id)) return false;
  if (workload.backends && !workload.backends.includes(backend)) return false;
  if (workload.subjects && !workload.subjects.includes(spec.id)) return false;
  if (!workload.needs.every((n) => spec.capabilities.includes(n))) return false;
  // The multi-process cases compare ours with the raw driver (and lock peers) only, to keep runs short.
  if (workload.custom && spec.kind !== 'ours') return false;
  if (workload.id === 'ycsb-a-procs' && spec.kind === 'peer') return false;
  // The memory backend lives in one process.
  if (backend === 'memory' && (workload.custom || workload.axis(PROFILES.test).processes > 1)) return false;
  return true;
}

/** Default backends: file and SQLite always, Redis and Postgres when they answer, Firebase only when configured. */
export async function defaultBackends(env: NodeJS.ProcessEnv = process.env): Promise<BenchBackend[]> {
  const backends: BenchBackend[] = ['file', 'sqlite'];
  if (await redisAnswers(redisUrlFromEnv(env))) backends.push('redis');
  if (await postgresAnswers(postgresUrlFromEnv(env))) backends.push('postgres');
  if (env['FIREBASE_DATABASE_EMULATOR_HOST'] || env['AGENT_STATE_BENCH_FIREBASE_URL']) backends.push('firebase');
  return backends;
}

/** Runs the bench and returns its report (no files written; see `writeReport`). */
export async function runBench(options: RunOptions = {}): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const profile = typeof options.profile === 'object' ? options.profile : PROFILES[options.profile ?? 'full'];
  const backends = options.backends ?? (await defaultBackends());
  const workloads = [...allWorkloads(profile), ...(options.extraWorkloads ?? [])].filter((w) => !options.workloads || options.workloads.includes(w.id));
  const note = options.onNote ?? (() => undefined);
  const subjectsOf = (b: BenchBackend): readonly SubjectSpec[] => [...SUBJECTS[b], ...(options.extraSubjects?.[b] ?? [])];
  const plans = new Map(
    backends.map((b) => [b, workloads.flatMap((workload) => subjectsOf(b).filter((spec) => canRun(workload, spec, b)).map((spec) => ({ workload, spec })))]),
  );
  const total = [...plans.values()].reduce((s, p) => s + p.length, 0);
  let index = 0;
  let done = 0;
  const cases: CaseResult[] = [];
  const finished = (results: CaseResult[]): void => {
    for (const result of results) {
      cases.push(result);
      options.onCaseDone?.({ done: ++done, total, name: `${result.backend} ${result.workload} ${result.subject}`, result });
    }
  };
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
        ...(backend === 'postgres' && { postgresUrl: postgresUrlFromEnv() }),
        ...(emulator && { firebase: emulator.ref }),
      });
      const ready = await openSubject(SUBJECTS[backend][0]!, store, opened);
      if (ready instanceof Error) {
        backendStatus.push({ name: backend, status: 'skipped', note: ready.message });
        note(`${backend}: skipped (${ready.message})`);
        index += plan.length;
        done += plan.length;
        continue;
      }
      backendStatus.push({ name: backend, status: 'ran' });
      const ctx: CaseContext = { store, profile, opened, prepared: new Set<string>(), note, extraModules: options.extraModules ?? [] };
      for (const group of groupByWorkload(plan)) {
        const workload = group[0]!.workload;
        const onSubject = (spec: SubjectSpec): void => options.onCase?.({ index: index++, total, name: `${backend} ${workload.id} ${spec.id}` });
        if (workload.sample) {
          finished(await runSampled(workload, group.map((p) => p.spec), ctx, onSubject));
        } else if (workload.custom || workload.axis(profile).processes > 1) {
          for (const { spec } of group) {
            onSubject(spec);
            finished([await runCase(workload, spec, ctx)]);
          }
        } else {
          finished(await runInterleaved(workload, group.map((p) => p.spec), ctx, onSubject));
        }
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

