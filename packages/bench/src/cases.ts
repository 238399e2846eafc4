/**
 * Running cases. Single-process cases of one workload are interleaved: every subject warms up,
 * then run 1 of each subject, run 2 of each ... so a change in machine load hits ours and the
 * baselines alike and the ratios stay fair. Multi-process and custom (swarm) cases run one by one.
 */
import { performance } from 'node:perf_hooks';
import { runFor, summarize, type Measurement, type RunSample } from './harness/measure.js';
import { measureInProcesses } from './harness/processes.js';
import { LatencyRecorder, spread } from './harness/stats.js';
import type { Profile } from './profile.js';
import type { CaseResult } from './results.js';
import { SkipCase } from './subjects/commands.js';
import type { StoreRef, Subject, SubjectSpec } from './subjects/types.js';
import type { PreparedOperation, Workload } from './workloads/types.js';

/** What every case of one backend shares. */
export interface CaseContext {
  store: StoreRef;
  profile: Profile;
  /** Subjects opened so far (or why they could not be). */
  opened: Map<string, Subject | Error>;
  /** Setups already done, as `subject:setupKey`. */
  prepared: Set<string>;
  note: (text: string) => void;
  /** `--extra` modules, for worker processes. */
  extraModules?: readonly string[];
}

/** A workload on a subject. */
export interface Planned {
  workload: Workload;
  spec: SubjectSpec;
}

/** Consecutive entries of the same workload, in order. */
export function groupByWorkload(plan: readonly Planned[]): Planned[][] {
  const groups: Planned[][] = [];
  for (const p of plan) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.workload === p.workload) last.push(p);
    else groups.push([p]);
  }
  return groups;
}

/** Opens a subject once per backend run. */
export async function openSubject(spec: SubjectSpec, store: StoreRef, opened: Map<string, Subject | Error>): Promise<Subject | Error> {
  let subject = opened.get(spec.id);
  if (subject === undefined) {
    subject = await spec.open(store).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    opened.set(spec.id, subject);
  }
  return subject;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

function baseResult(workload: Workload, spec: SubjectSpec, ctx: CaseContext): CaseResult {
  return {
    backend: ctx.store.backend,
    workload: workload.id,
    subject: spec.id,
    kind: spec.kind,
    label: spec.label,
    axis: workload.axis(ctx.profile),
    status: 'ok',
  };
}

async function ready(workload: Workload, spec: SubjectSpec, ctx: CaseContext): Promise<Subject> {
  const subject = await openSubject(spec, ctx.store, ctx.opened);
  if (subject instanceof Error) throw subject;
  const key = workload.setup && `${spec.id}:${workload.setup.key}`;
  if (workload.setup && key && !ctx.prepared.has(key)) {
    await workload.setup.run(subject, ctx.profile);
    ctx.prepared.add(key);
  }
  return subject;
}

/** A failed case, or a skipped one when the error says the case cannot run here (SkipCase). */
function failed(base: CaseResult, error: unknown, ctx: CaseContext): CaseResult {
  const message = messageOf(error);
  if (error instanceof SkipCase) {
    ctx.note(`${base.backend} ${base.workload} ${base.subject}: skipped: ${message}`);
    return { ...base, status: 'skipped', note: message };
  }
  ctx.note(`${base.backend} ${base.workload} ${base.subject}: failed: ${message}`);
  return { ...base, status: 'failed', note: message };
}

/** Runs one single-process workload on several subjects with interleaved runs. */
export async function runInterleaved(
  workload: Workload,
  specs: readonly SubjectSpec[],
  ctx: CaseContext,
  onSubject: (spec: SubjectSpec) => void,
): Promise<CaseResult[]> {
  const { profile } = ctx;
  const inflight = workload.axis(profile).inflight;
  const lanes: { base: CaseResult; op?: PreparedOperation; runs: RunSample[]; recorder: LatencyRecorder; error?: unknown; started: number }[] = [];
  for (const spec of specs) {
    onSubject(spec);
    const lane = { base: baseResult(workload, spec, ctx), runs: [] as RunSample[], recorder: new LatencyRecorder(), started: performance.now() };
    try {
      const subject = await ready(workload, spec, ctx);
      const op = await workload.prepare!(subject, { profile, processIndex: 0, seed: 42 });
      lanes.push({ ...lane, op });
      if (profile.warmupMs > 0) await runFor(op.op, profile.warmupMs, inflight);
    } catch (error) {
      lanes.push({ ...lane, error });
    }
  }
  for (let run = 0; run < profile.runs; run++) {
    for (const lane of lanes) {
      if (lane.error !== undefined || !lane.op) continue;
      try {
        lane.runs.push(await runFor(lane.op.op, profile.runMs, inflight, lane.recorder));
      } catch (error) {
        lane.error = error;
      }
    }
  }
  const results: CaseResult[] = [];
  for (const lane of lanes) {
    try {
      await lane.op?.teardown?.();
    } catch (error) {
      lane.error ??= error;
    }
    const durationMs = Math.round(performance.now() - lane.started);
    if (lane.error !== undefined) {
      results.push({ ...failed(lane.base, lane.error, ctx), durationMs });
      continue;
    }
    const m: Measurement = summarize(lane.runs, lane.recorder);
    results.push({ ...lane.base, throughput: m.throughput, latency: m.latency, durationMs });
  }
  return results;
}

/**
 * Runs a sampled workload on several subjects: setup, then `rounds` rounds in which every subject
 * takes one sample in turn; throughput per round = ops ÷ elapsed, reported as median (min–max).
 */
export async function runSampled(
  workload: Workload,
  specs: readonly SubjectSpec[],
  ctx: CaseContext,
  onSubject: (spec: SubjectSpec) => void,
): Promise<CaseResult[]> {
  const { profile } = ctx;
  const rounds = workload.rounds?.(profile) ?? profile.runs;
  const lanes: { spec: SubjectSpec; base: CaseResult; subject?: Subject; rates: number[]; recorder: LatencyRecorder; facts: Record<string, number | string>; error?: unknown; started: number; busyMs: number }[] = [];
  for (const spec of specs) {
    onSubject(spec);
    const lane = { spec, base: baseResult(workload, spec, ctx), rates: [] as number[], recorder: new LatencyRecorder(), facts: {}, started: performance.now(), busyMs: 0 };
    try {
      lanes.push({ ...lane, subject: await ready(workload, spec, ctx) });
    } catch (error) {
      lanes.push({ ...lane, error });
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const lane of lanes) {
      if (lane.error !== undefined || !lane.subject) continue;
      const t0 = performance.now();
      try {
        const sample = await workload.sample!(lane.subject, { profile, processIndex: 0, seed: 42 + round, store: ctx.store, round });
        lane.rates.push(sample.elapsedMs > 0 ? (sample.ops * 1000) / sample.elapsedMs : 0);
        const latencies = sample.latencies ?? Array.from({ length: Math.min(sample.ops, 100_000) }, () => sample.elapsedMs / Math.max(1, sample.ops));
        for (const ms of latencies) lane.recorder.recordMs(ms);
        if (sample.facts) lane.facts = sample.facts;
      } catch (error) {
        lane.error = error;
      }
      lane.busyMs += performance.now() - t0;
    }
  }
  return lanes.map((lane) => {
    const durationMs = Math.round(lane.busyMs);
    if (lane.error !== undefined) return { ...failed(lane.base, lane.error, ctx), durationMs };
    return {
      ...lane.base,
      throughput: spread(lane.rates),
      latency: lane.recorder.summary(),
      ...(Object.keys(lane.facts).length > 0 && { facts: { ...lane.facts, rounds } }),
      durationMs,
    };
  });
}

/** Runs one case on its own: multi-process, or a custom scenario. */
export async function runCase(workload: Workload, spec: SubjectSpec, ctx: CaseContext): Promise<CaseResult> {
  const base = baseResult(workload, spec, ctx);
  const started = performance.now();
  const durationMs = (): number => Math.round(performance.now() - started);
  try {
    const subject = await ready(workload, spec, ctx);
    if (workload.custom) {
      const outcome = await workload.custom(ctx.store, ctx.profile, subject);
      const summarizeMs = (values: number[]) => {
        const r = new LatencyRecorder();
        for (const v of values) r.recordMs(v);
        return r.summary();
      };
      const opsPerSec = outcome.elapsedMs > 0 ? (outcome.ops * 1000) / outcome.elapsedMs : 0;
      return {
        ...base,
        throughput: { median: opsPerSec, min: opsPerSec, max: opsPerSec },
        latency: summarizeMs(outcome.latencies),
        series: Object.fromEntries(Object.entries(outcome.series).map(([k, v]) => [k, summarizeMs(v)])),
        facts: outcome.facts,
        durationMs: durationMs(),
      };
    }
    const { profile } = ctx;
    const m = await measureInProcesses(
      { mode: 'kv', store: ctx.store, subjectId: spec.id, workloadId: workload.id, profile, seed: 1000, extras: ctx.extraModules ?? [], cwd: process.cwd() },
      base.axis.processes,
      { warmupMs: profile.warmupMs, runMs: profile.runMs, runs: profile.runs, inflight: base.axis.inflight },
    );
    return { ...base, throughput: m.throughput, latency: m.latency, durationMs: durationMs() };
  } catch (error) {
    return { ...failed(base, error, ctx), durationMs: durationMs() };
  }
}
