/**
 * The speed targets of the issues, as data, and how each is judged from one run's figures.
 * Nothing is assumed: a target whose figures are missing is "not measured".
 *
 * Issue numbers are the tracker's: #13 native coordination, #15 hot paths and the CLI (both as
 * amended by shared/design/second-wave-notes.md), #17's metrics cost, and the first wave's #3–#6
 * where the second wave set no newer bound.
 */
import type { CaseResult, TargetResult } from './results.js';

/** A target, judged from this run's rows only. */
export type TargetSpec =
  /** `subject` (default ours) ÷ `baseline` median throughput on `workload` ≥ `min`. */
  | { backend: string; issue: number; name: string; kind: 'ratio'; workload: string; baseline: string; min: number; subject?: string }
  /**
   * The `series` percentile of `subject` (default ours) on exactly `workload` < `maxMs` (the
   * swarm's p99s); without `series`, the row's own latency (the server's cases).
   */
  | { backend: string; issue: number; name: string; kind: 'latency'; workload: string; series?: string; subject?: string; percentile: 'p50' | 'p95' | 'p99'; maxMs: number }
  /** ours' median throughput on `workload` ≥ `min` ops/s. */
  | { backend: string; issue: number; name: string; kind: 'throughput'; workload: string; min: number }
  /** p50 latency of (workload, subject) ÷ p50 of (base workload, base subject) ≤ `max`. */
  | {
      backend: string;
      issue: number;
      name: string;
      kind: 'latency-ratio';
      workload: string;
      subject: string;
      baseWorkload: string;
      baseSubject: string;
      max: number;
    }
  /** A numeric fact of ours on `workload` ≤ `max`, judged only when the `requires` facts match (the size the target is stated at). */
  | { backend: string; issue: number; name: string; kind: 'fact'; workload: string; fact: string; max: number; unit: string; requires?: Record<string, number> }
  /** Every `a/b` fact listed is complete (a = b): nothing lost. */
  | { backend: string; issue: number; name: string; kind: 'complete'; workload: string; facts: readonly string[] };

const ratio = (backend: string, issue: number, name: string, workload: string, baseline: string, min: number): TargetSpec => ({
  backend,
  issue,
  name,
  kind: 'ratio',
  workload,
  baseline,
  min,
});

const swarm = (backend: string, agents: number, bounds: readonly [number, number, number]): TargetSpec[] => [
  { backend, issue: 13, name: `swarm ${agents}: task assignment p99`, kind: 'latency', workload: `swarm-${agents}`, series: 'assignment', percentile: 'p99', maxMs: bounds[0] },
  { backend, issue: 13, name: `swarm ${agents}: lock acquisition p99`, kind: 'latency', workload: `swarm-${agents}`, series: 'lock', percentile: 'p99', maxMs: bounds[1] },
  { backend, issue: 13, name: `swarm ${agents}: message delivery p99`, kind: 'latency', workload: `swarm-${agents}`, series: 'delivery', percentile: 'p99', maxMs: bounds[2] },
];

const claimFlat = (backend: string): TargetSpec[] => [
  {
    backend,
    issue: 13,
    name: 'claim cost flat: 10,000 waiting',
    kind: 'latency-ratio',
    workload: 'claim-backlog',
    subject: 'ours',
    baseWorkload: 'claim-small',
    baseSubject: 'ours',
    max: 1.5,
  },
  {
    backend,
    issue: 13,
    name: 'claim cost flat: behind 1,000 in flight',
    kind: 'latency-ratio',
    workload: 'claim-inflight',
    subject: 'ours',
    baseWorkload: 'claim-small',
    baseSubject: 'ours',
    max: 1.5,
  },
];

const cliStart = (backend: string): TargetSpec => ({
  backend,
  issue: 15,
  name: 'agent-state get ≤ 1.5× node -e 0',
  kind: 'latency-ratio',
  workload: 'cli',
  subject: 'ours',
  baseWorkload: 'cli',
  baseSubject: 'node-e0',
  max: 1.5,
});

export const TARGETS: readonly TargetSpec[] = [
  // #13: the seed's swarm targets at 50 agents (SQLite, Redis) and 10 (files); five-fold at 10 agents.
  ...swarm('sqlite', 50, [10, 50, 5]),
  ...swarm('redis', 50, [10, 50, 5]),
  ...swarm('file', 10, [10, 50, 5]),
  ...swarm('sqlite', 10, [2, 10, 1]),
  ...swarm('redis', 10, [2, 10, 1]),
  { backend: 'sqlite', issue: 13, name: 'swarm 100 × 5: nothing lost', kind: 'complete', workload: 'swarm-100', facts: ['results', 'stored', 'lockedCounter'] },
  { backend: 'redis', issue: 13, name: 'swarm 100 × 5: nothing lost', kind: 'complete', workload: 'swarm-100', facts: ['results', 'stored', 'lockedCounter'] },
  // #13: queues.
  ratio('redis', 13, 'queue add+process vs BullMQ, 1 worker', 'queue-drain-1', 'bullmq', 1.0),
  ratio('redis', 13, 'queue add+process vs BullMQ, 8 workers', 'queue-drain-8', 'bullmq', 1.0),
  { backend: 'sqlite', issue: 13, name: 'queue cycles/s', kind: 'throughput', workload: 'queue', min: 5_000 },
  ratio('file', 13, 'queue cycles vs one raw durable write', 'queue', 'raw-durable', 0.4),
  ...['file', 'sqlite', 'redis', 'postgres', 'firebase'].flatMap(claimFlat),
  // #15: Redis.
  ratio('redis', 15, 'read', 'ycsb-c', 'raw', 0.95),
  ratio('redis', 15, 'write (vs Lua CAS)', 'write', 'raw', 0.9),
  ratio('redis', 15, 'set+get vs Keyv', 'seed', 'keyv-redis', 1.0),
  ratio('redis', 15, 'set+get vs unstorage', 'seed', 'unstorage-redis', 1.0),
  ratio('redis', 15, '32 in flight', 'seed-32', 'raw-set', 0.85),
  ratio('redis', 15, 'lock+release', 'lock', 'raw', 1.0),
  ratio('redis', 15, 'lock+release vs redlock', 'lock', 'redlock', 1.1),
  ratio('redis', 15, 'lock, 4 processes', 'lock-contended', 'raw', 1.0),
  ratio('redis', 15, 'lock, 4 processes vs redlock', 'lock-contended', 'redlock', 1.1),
  // #15: SQLite.
  ratio('sqlite', 15, 'read', 'ycsb-c', 'raw', 0.8),
  ratio('sqlite', 15, 'write', 'write', 'raw', 0.8),
  ratio('sqlite', 15, 'read-modify-write', 'rmw', 'raw', 0.8),
  ratio('sqlite', 15, 'YCSB A', 'ycsb-a', 'raw', 0.8),
  ratio('sqlite', 15, 'YCSB A, 4 processes', 'ycsb-a-procs', 'raw', 0.7),
  // #15: files.
  ratio('file', 15, 'durable write', 'write', 'raw', 0.9),
  ratio('file', 15, 'read-modify-write', 'rmw', 'raw', 0.8),
  // #15: the shell.
  cliStart('file'),
  cliStart('sqlite'),
  cliStart('redis'),
  { backend: 'file', issue: 15, name: '1,000 shell increments in one loop', kind: 'fact', workload: 'shell-loop', fact: 'loopMs', max: 2_000, unit: 'ms', requires: { calls: 1_000 } },
  {
    backend: 'file',
    issue: 15,
    name: 'test_concurrent_writes 10 × 100',
    kind: 'fact',
    workload: 'shell-concurrent',
    fact: 'wallMs',
    max: 60_000,
    unit: 'ms',
    requires: { processes: 10, calls: 100 },
  },
  // #17: metrics cheap enough to leave on (median of ≥ 9 alternated rounds, the hottest in-process path).
  ratio('sqlite', 17, 'metrics on ÷ off', 'metrics-cost', 'metrics-off', 0.95),
  ratio('file', 17, 'metrics on ÷ off', 'metrics-cost', 'metrics-off', 0.95),
  // #16 (serve; second-wave notes, issue 14): through `agent-state serve`, 16 clients, same run.
  ...['sqlite', 'redis'].flatMap((backend): TargetSpec[] => [
    { backend, issue: 16, name: 'HTTP read vs a bare Fastify route', kind: 'ratio', workload: 'http-read', subject: 'ours-http', baseline: 'http-bare', min: 0.8 },
    { backend, issue: 16, name: 'HTTP write vs a bare Fastify route', kind: 'ratio', workload: 'http-write', subject: 'ours-http', baseline: 'http-bare', min: 0.8 },
    { backend, issue: 16, name: 'HTTP read p99', kind: 'latency', workload: 'http-read', subject: 'ours-http', percentile: 'p99', maxMs: 2 },
    { backend, issue: 16, name: 'HTTP write p99', kind: 'latency', workload: 'http-write', subject: 'ours-http', percentile: 'p99', maxMs: 2 },
    { backend, issue: 16, name: 'blocked claim woken p99', kind: 'latency', workload: 'wake-claim', subject: 'ours-http', percentile: 'p99', maxMs: 2 },
    { backend, issue: 16, name: 'SSE subscriber woken p99', kind: 'latency', workload: 'wake-sse', subject: 'ours-http', percentile: 'p99', maxMs: 2 },
  ]),
  // First wave, where the second wave set no newer bound.
  ratio('file', 3, 'read', 'ycsb-c', 'raw', 0.5),
  ratio('file', 3, 'lock+release vs proper-lockfile', 'lock', 'proper-lockfile', 1.5),
  ratio('sqlite', 4, 'set+get vs Keyv', 'seed', 'keyv-sqlite', 10),
  ratio('firebase', 6, 'read', 'ycsb-c', 'raw', 0.8),
  ratio('firebase', 6, 'write', 'write', 'raw', 0.8),
  // #19: Firebase cost does not grow with the namespace (workloads/firebase-scale.ts).
  ...(['tx', 'write'] as const).map((op): TargetSpec => ({
    backend: 'firebase',
    issue: 19,
    name: `${op === 'tx' ? '2-key tx' : 'single write'} at 10,000 keys ≤ 1.5× at 10`,
    kind: 'latency-ratio',
    workload: `fb-scale-${op}-10000`,
    subject: 'ours',
    baseWorkload: `fb-scale-${op}-10`,
    baseSubject: 'ours',
    max: 1.5,
  })),
  ratio('firebase', 19, "read at 10,000 keys vs once('value')", 'fb-scale-read-10000', 'raw', 0.9),
  ratio('firebase', 19, 'write at 10,000 keys vs set()', 'fb-scale-write-10000', 'raw', 0.8),
];

const okRow = (cases: readonly CaseResult[], backend: string, workload: string, subject: string): CaseResult | undefined =>
  cases.find((c) => c.backend === backend && c.workload === workload && c.subject === subject && c.status === 'ok');

/** `subject` (default ours) ÷ baseline median throughput, when both ran. */
export function ratioOf(cases: readonly CaseResult[], backend: string, workload: string, baseline: string, subject = 'ours'): number | undefined {
  const ours = okRow(cases, backend, workload, subject)?.throughput?.median;
  const base = okRow(cases, backend, workload, baseline)?.throughput?.median;
  if (ours === undefined || base === undefined || !(base > 0)) return undefined;
  return ours / base;
}

/** Fills `ratios` on every `ours` row: against each baseline that ran the same workload. */
export function attachRatios(cases: CaseResult[]): void {
  for (const c of cases) {
    if (c.subject !== 'ours' || c.status !== 'ok') continue;
    const ratios: Record<string, number> = {};
    for (const b of cases) {
      if (b.backend !== c.backend || b.workload !== c.workload || b.subject === 'ours') continue;
      const r = ratioOf(cases, c.backend, c.workload, b.subject);
      if (r !== undefined) ratios[b.subject] = r;
    }
    if (Object.keys(ratios).length > 0) c.ratios = ratios;
  }
}

/** `"250/250"` → [250, 250]. */
function fraction(value: number | string | undefined): [number, number] | undefined {
  const m = typeof value === 'string' ? /^(\d+)\/(\d+)$/.exec(value) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The measured figure of one target (undefined: not measured) and its rule text. */
function measure(spec: TargetSpec, cases: readonly CaseResult[]): { rule: string; measured?: number; met?: boolean } {
  switch (spec.kind) {
    case 'ratio': {
      const measured = ratioOf(cases, spec.backend, spec.workload, spec.baseline, spec.subject);
      return { rule: `${spec.workload}: ${spec.subject ?? 'ours'}/${spec.baseline} ≥ ${spec.min}`, ...(measured !== undefined && { measured, met: measured >= spec.min }) };
    }
    case 'latency': {
      const row = okRow(cases, spec.backend, spec.workload, spec.subject ?? 'ours');
      const series = spec.series === undefined ? row?.latency : row?.series?.[spec.series];
      // An empty series (e.g. no message arrived) is not a measurement of 0 ms.
      const measured = series && series.count > 0 ? series[spec.percentile] : undefined;
      const what = spec.series ?? spec.subject ?? 'ours';
      return { rule: `${spec.workload}: ${what} ${spec.percentile} < ${spec.maxMs} ms`, ...(measured !== undefined && { measured, met: measured < spec.maxMs }) };
    }
    case 'throughput': {
      const measured = okRow(cases, spec.backend, spec.workload, 'ours')?.throughput?.median;
      return { rule: `${spec.workload}: ours ≥ ${spec.min.toLocaleString('en-US')} ops/s`, ...(measured !== undefined && { measured, met: measured >= spec.min }) };
    }
    case 'latency-ratio': {
      const a = okRow(cases, spec.backend, spec.workload, spec.subject)?.latency;
      const b = okRow(cases, spec.backend, spec.baseWorkload, spec.baseSubject)?.latency;
      const rule = `p50 ${spec.workload}/${spec.subject} ÷ ${spec.baseWorkload}/${spec.baseSubject} ≤ ${spec.max}`;
      if (!a || !b || a.count === 0 || b.count === 0 || !(b.p50 > 0)) return { rule };
      const measured = a.p50 / b.p50;
      return { rule, measured, met: measured <= spec.max };
    }
    case 'fact': {
      const facts = okRow(cases, spec.backend, spec.workload, 'ours')?.facts;
      const size = spec.requires ? ` at ${Object.entries(spec.requires).map(([k, v]) => `${k} ${v}`).join(', ')}` : '';
      const rule = `${spec.workload}: ${spec.fact} ≤ ${spec.max.toLocaleString('en-US')} ${spec.unit}${size}`;
      const sized = facts && Object.entries(spec.requires ?? {}).every(([k, v]) => facts[k] === v);
      const value = sized ? facts[spec.fact] : undefined;
      if (typeof value !== 'number') return { rule };
      return { rule, measured: value, met: value <= spec.max };
    }
    case 'complete': {
      const facts = okRow(cases, spec.backend, spec.workload, 'ours')?.facts;
      const rule = `${spec.workload}: ${spec.facts.join(', ')} complete`;
      const parts = spec.facts.map((f) => fraction(facts?.[f]));
      if (!facts || parts.some((p) => p === undefined)) return { rule };
      const lost = parts.reduce((s, p) => s + (p![1] - p![0]), 0);
      return { rule, measured: lost, met: lost === 0 };
    }
  }
}

/** The unit a target's measured figure is in, for display. */
export function targetUnit(spec: Pick<TargetSpec, 'kind'> & { unit?: string }): string {
  switch (spec.kind) {
    case 'ratio':
    case 'latency-ratio':
      return '×';
    case 'latency':
      return ' ms';
    case 'throughput':
      return ' ops/s';
    case 'fact':
      return ` ${spec.unit ?? ''}`;
    case 'complete':
      return ' lost';
  }
}

/** Judges every target of the backends that ran. */
export function judgeTargets(cases: readonly CaseResult[], backends: readonly string[], specs: readonly TargetSpec[] = TARGETS): TargetResult[] {
  const results: TargetResult[] = [];
  for (const spec of specs) {
    if (!backends.includes(spec.backend)) continue;
    const { rule, measured, met } = measure(spec, cases);
    results.push({
      backend: spec.backend,
      issue: spec.issue,
      name: spec.name,
      rule,
      kind: spec.kind,
      unit: targetUnit(spec),
      ...(measured !== undefined && { measured }),
      verdict: measured === undefined ? 'not measured' : met ? 'met' : 'not met',
    });
  }
  return results;
}
