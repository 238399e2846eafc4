import type { LatencySummary, Spread } from './harness/stats.js';
import type { SubjectKind } from './subjects/types.js';
import type { Axis } from './workloads/types.js';

/** The outcome of one workload on one subject of one backend. */
export interface CaseResult {
  backend: string;
  workload: string;
  subject: string;
  kind: SubjectKind;
  label: string;
  axis: Axis;
  status: 'ok' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  note?: string;
  /** Operations per second over the runs. */
  throughput?: Spread;
  /** Latency of one operation, ms. */
  latency?: LatencySummary;
  /** Named latency series (swarm: assignment, lock, delivery). */
  series?: Record<string, LatencySummary>;
  facts?: Record<string, number | string>;
  /** Wall time the case took, setup included (ms). */
  durationMs?: number;
  /** ours ÷ baseline median throughput, by baseline subject id (only on `ours` rows). */
  ratios?: Record<string, number>;
}

/** A speed target of a backend issue, judged from this run's figures only. */
export interface TargetResult {
  backend: string;
  issue: number;
  name: string;
  /** How it is judged, e.g. `ours/raw ≥ 0.8`. */
  rule: string;
  /** ratio, latency, throughput, latency-ratio, fact or complete (see targets.ts). */
  kind?: string;
  /** The unit of `measured` for display: `×`, ` ms`, ` ops/s`, ` lost`. */
  unit?: string;
  /** The measured figure (a ratio, or ms for absolute targets); absent when not measured. */
  measured?: number;
  verdict: 'met' | 'not met' | 'not measured';
}

/** Where the run happened. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  tempDir: string;
  tempDisk: string;
}

/** Everything one bench run produced (the JSON file). */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  profile: string;
  machine: MachineInfo;
  backends: { name: string; status: 'ran' | 'skipped'; note?: string }[];
  cases: CaseResult[];
  targets: TargetResult[];
  recommendations: string[];
}
