import type { Operation } from '../harness/measure.js';
import type { Profile } from '../profile.js';
import type { BenchBackend, Capability, StoreRef, Subject } from '../subjects/types.js';

/** The two concurrency axes: operations in flight per process, and processes. */
export interface Axis {
  inflight: number;
  processes: number;
}

/** Where an operation runs: which process of how many, with which seed. */
export interface OperationContext {
  profile: Profile;
  processIndex: number;
  seed: number;
}

/** A built operation and what to do when the case ends. */
export interface PreparedOperation {
  op: Operation;
  teardown?: () => Promise<void>;
}

/** Extra figures a custom workload reports (e.g. the swarm's p99 of assignment). */
export interface CustomOutcome {
  ops: number;
  elapsedMs: number;
  /** Latencies (ms) of the main operation. */
  latencies: number[];
  /** Named latency series, each summarised in the report. */
  series: Record<string, number[]>;
  /** Facts to show (e.g. results received/expected). */
  facts: Record<string, number | string>;
}

/** One measured round of a sampled workload. */
export interface Sample {
  ops: number;
  elapsedMs: number;
  /** Latencies (ms) to record; default: one of elapsedMs / ops per op. */
  latencies?: number[];
  facts?: Record<string, number | string>;
}

/** One workload: what it needs, its axis, how to prepare the store and build an operation. */
export interface Workload {
  id: string;
  title: string;
  /** One sentence for the README and report. */
  description: string;
  needs: readonly Capability[];
  /** Only these subjects (default: every subject with the capabilities). */
  subjects?: readonly string[];
  /** Only on these backends (default: every backend whose subjects have the capabilities). */
  backends?: readonly BenchBackend[];
  axis(profile: Profile): Axis;
  /** Preparation shared by workloads with the same key (done once per subject and run). */
  setup?: { key: string; run(subject: Subject, profile: Profile): Promise<void> };
  /** Builds the operation in the process that runs it. */
  prepare?(subject: Subject, ctx: OperationContext): Promise<PreparedOperation>;
  /**
   * A workload measured in rounds instead of a timed loop: each round calls `sample` once per
   * subject, subjects alternating (ours, baseline, ours, baseline ...); throughput is the median
   * (min–max) of the rounds. For scenarios too big for a timed loop (drain a backlog, start a process).
   */
  sample?(subject: Subject, ctx: OperationContext & { store: StoreRef; round: number }): Promise<Sample>;
  /** Rounds of a sampled workload (default: profile.runs). */
  rounds?(profile: Profile): number;
  /** A workload that runs its own scenario instead of the timed loop (swarm). */
  custom?(store: StoreRef, profile: Profile, subject: Subject): Promise<CustomOutcome>;
}
