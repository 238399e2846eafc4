import type { StateClient } from '@agent-state/core';

/** The backends the bench knows; `memory` is for developing the bench itself (single process). */
export const BENCH_BACKENDS = ['file', 'sqlite', 'redis', 'postgres', 'firebase', 'memory'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/**
 * Where one backend's stores live for one bench run: serialisable, so worker processes open
 * the very same stores. Every subject derives its own file, table or key prefix from it.
 */
export interface StoreRef {
  backend: BenchBackend;
  /** A fresh temp dir, removed after the run. */
  root: string;
  /** A random namespace (Redis keys and Firebase nodes carry it, so cleanup finds them). */
  namespace: string;
  redisUrl?: string;
  /** The Postgres server; the run's tables live in a schema of their own, named after the namespace. */
  postgresUrl?: string;
  firebase?: { databaseUrl: string; emulatorHost: string };
}

/** What a subject is: our library, the raw driver, or a library a user might pick instead. */
export type SubjectKind = 'ours' | 'raw' | 'peer';

/** Options of a lock cycle. */
export interface LockCycleOptions {
  /** Wait for a busy lock (contended runs) instead of failing at once. */
  wait: boolean;
}

/**
 * One thing under test, opened on a store. Workloads call only the operations they need;
 * a subject that lacks one does not run that workload.
 */
export interface Subject {
  /** Point read of a JSON value (parsed). */
  read?(key: string): Promise<unknown>;
  /** Durable write of a JSON value, replacing the old one. */
  write?(key: string, value: unknown): Promise<void>;
  /** Atomic read-modify-write. */
  rmw?(key: string, fn: (value: unknown) => unknown): Promise<void>;
  /** Acquire then release a lock on `resource`. */
  lockCycle?(resource: string, options: LockCycleOptions): Promise<void>;
  /** One queue cycle on queue `name`: enqueue → claim → ack (ours), or the raw step it is judged against. */
  queueCycle?(name: string): Promise<void>;
  /**
   * Adds `jobs` jobs one by one (awaited), then `workers` consumers in this process drain them.
   * Returns the two phases' wall times.
   */
  queueDrain?(options: QueueDrainOptions): Promise<{ addMs: number; processMs: number }>;
  /** One command-line call as a new process (the `cli` case): resolves when it exits 0. */
  cliCall?(): Promise<void>;
  /** Our client, for workloads that need the full API (transactions, queues, pub/sub). */
  state?: StateClient;
  close(): Promise<void>;
}

/** Options of {@link Subject.queueDrain}. */
export interface QueueDrainOptions {
  /** A queue name nobody used before in this run. */
  name: string;
  jobs: number;
  workers: number;
}

/** The operations a workload may need. */
export type Capability = 'read' | 'write' | 'rmw' | 'lockCycle' | 'queueCycle' | 'queueDrain' | 'cliCall' | 'state';

/** A subject a backend offers, and how to open it. */
export interface SubjectSpec {
  /** Stable id: `ours`, `raw`, `raw-set`, `keyv-sqlite`, ... */
  id: string;
  kind: SubjectKind;
  /** What exactly it does, for the report. */
  label: string;
  /** The operations it has. */
  capabilities: readonly Capability[];
  /** When set, the only workloads it takes part in (a baseline that answers one question). */
  only?: readonly string[];
  open(store: StoreRef): Promise<Subject>;
}
