import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../src/results.js';
import { judgeTargets, TARGETS, type TargetSpec } from '../src/targets.js';

/** A synthetic result row: throughput `median`, p50 `p50` ms. */
const row = (backend: string, workload: string, subject: string, median: number, extra: Partial<CaseResult> = {}): CaseResult => ({
  backend,
  workload,
  subject,
  kind: subject === 'ours' ? 'ours' : subject.startsWith('raw') || subject === 'node-e0' ? 'raw' : 'peer',
  label: subject,
  axis: { inflight: 1, processes: 1 },
  status: 'ok',
  throughput: { median, min: median, max: median },
  latency: { p50: 1000 / median, p95: 2, p99: 3, max: 4, mean: 1, count: 10 },
  ...extra,
});
const series = (p99: number) => ({ p50: p99 / 2, p95: p99, p99, max: p99, mean: p99 / 2, count: 50 });

/** One synthetic run covering every kind of target of issues 13 and 15. */
const run: CaseResult[] = [
  // Redis queue vs BullMQ: 1 worker met (1.2×), 8 workers not met (0.5×).
  row('redis', 'queue-drain-1', 'ours', 6_000),
  row('redis', 'queue-drain-1', 'bullmq', 5_000),
  row('redis', 'queue-drain-8', 'ours', 5_000),
  row('redis', 'queue-drain-8', 'bullmq', 10_000),
  // SQLite queue: absolute throughput.
  row('sqlite', 'queue', 'ours', 4_999),
  // File queue vs one raw durable write: exactly 0.4× is met.
  row('file', 'queue', 'ours', 400),
  row('file', 'queue', 'raw-durable', 1_000),
  // Claim cost: p50 1 ms at 100 waiting, 1.5 ms at 10,000 (met, at the bound), 2 ms behind 1,000 in flight (not met).
  row('sqlite', 'claim-small', 'ours', 1_000),
  row('sqlite', 'claim-backlog', 'ours', 1_000 / 1.5),
  row('sqlite', 'claim-inflight', 'ours', 500),
  // CLI: agent-state get 60 ms vs node -e 0 50 ms → 1.2× (met).
  row('file', 'cli', 'ours', 1000 / 60),
  row('file', 'cli', 'node-e0', 1000 / 50),
  // Shell loop at the stated size (met) and the concurrent case at another size (not measured).
  row('file', 'shell-loop', 'ours', 800, { facts: { calls: 1_000, count: 1_000, loopMs: 1_250 } }),
  row('file', 'shell-concurrent', 'ours', 100, { facts: { processes: 2, calls: 5, count: 10, wallMs: 900 } }),
  // Swarms: 50 agents on Redis (assignment met, delivery not met); 100 agents on SQLite, one result lost.
  row('redis', 'swarm-50', 'ours', 100, { axis: { inflight: 1, processes: 50 }, series: { assignment: series(8), lock: series(20), delivery: series(7) } }),
  row('sqlite', 'swarm-100', 'ours', 100, { axis: { inflight: 1, processes: 100 }, facts: { results: '499/500', stored: '499/500', lockedCounter: '500/500' } }),
  row('redis', 'swarm-100', 'ours', 100, { axis: { inflight: 1, processes: 100 }, facts: { results: '500/500', stored: '500/500', lockedCounter: '500/500' } }),
  // Issue 15 ratios on Redis: lock+release 1.05× redlock (the target is 1.1×), read 0.96× raw.
  row('redis', 'lock', 'ours', 1_050),
  row('redis', 'lock', 'redlock', 1_000),
  row('redis', 'ycsb-c', 'ours', 960),
  row('redis', 'ycsb-c', 'raw', 1_000),
];

const judged = judgeTargets(run, ['file', 'sqlite', 'redis', 'firebase']);
const verdict = (backend: string, name: string): string | undefined => judged.find((t) => t.backend === backend && t.name === name)?.verdict;
const measured = (backend: string, name: string): number | undefined => judged.find((t) => t.backend === backend && t.name === name)?.measured;

describe('the targets of issues 13 and 15, judged from a synthetic run', () => {
  it('BullMQ ratios per worker count', () => {
    expect(verdict('redis', 'queue add+process vs BullMQ, 1 worker')).toBe('met');
    expect(measured('redis', 'queue add+process vs BullMQ, 1 worker')).toBeCloseTo(1.2);
    expect(verdict('redis', 'queue add+process vs BullMQ, 8 workers')).toBe('not met');
  });

  it('the SQLite queue is held to 5,000 cycles/s and the file queue to 0.4× a raw durable write', () => {
    expect(verdict('sqlite', 'queue cycles/s')).toBe('not met');
    expect(measured('sqlite', 'queue cycles/s')).toBe(4_999);
    expect(verdict('file', 'queue cycles vs one raw durable write')).toBe('met');
  });

  it('claim cost is a ratio of p50 claim times to the small queue, ≤ 1.5 met', () => {
    expect(verdict('sqlite', 'claim cost flat: 10,000 waiting')).toBe('met');
    expect(measured('sqlite', 'claim cost flat: 10,000 waiting')).toBeCloseTo(1.5);
    expect(verdict('sqlite', 'claim cost flat: behind 1,000 in flight')).toBe('not met');
    expect(measured('sqlite', 'claim cost flat: behind 1,000 in flight')).toBeCloseTo(2);
    // No claim rows on files in this run.
    expect(verdict('file', 'claim cost flat: 10,000 waiting')).toBe('not measured');
  });

  it('the CLI start-up is judged against node -e 0 in the same run', () => {
    expect(verdict('file', 'agent-state get ≤ 1.5× node -e 0')).toBe('met');
    expect(measured('file', 'agent-state get ≤ 1.5× node -e 0')).toBeCloseTo(1.2);
    expect(verdict('redis', 'agent-state get ≤ 1.5× node -e 0')).toBe('not measured');
  });

  it('shell targets count only at the size they are stated at', () => {
    expect(verdict('file', '1,000 shell increments in one loop')).toBe('met');
    expect(measured('file', '1,000 shell increments in one loop')).toBe(1_250);
    expect(verdict('file', 'test_concurrent_writes 10 × 100')).toBe('not measured');
  });

  it('swarm p99s at 50 agents, and the 100-agent run loses nothing', () => {
    expect(verdict('redis', 'swarm 50: task assignment p99')).toBe('met');
    expect(verdict('redis', 'swarm 50: message delivery p99')).toBe('not met');
    expect(verdict('sqlite', 'swarm 50: task assignment p99')).toBe('not measured');
    expect(verdict('sqlite', 'swarm 100 × 5: nothing lost')).toBe('not met');
    expect(measured('sqlite', 'swarm 100 × 5: nothing lost')).toBe(2);
    expect(verdict('redis', 'swarm 100 × 5: nothing lost')).toBe('met');
  });

  it("issue 15's ratios use the second wave's bounds", () => {
    expect(verdict('redis', 'lock+release vs redlock')).toBe('not met');
    expect(verdict('redis', 'read')).toBe('met');
  });

  it('every target names a tracker issue of the second wave or the first, and units fit the kind', () => {
    const issues = new Set(TARGETS.map((t) => t.issue));
    for (const issue of issues) expect([3, 4, 6, 13, 15, 16, 17, 19]).toContain(issue);
    for (const t of judged) expect(t.unit).toBeDefined();
    const ids = TARGETS.map((t: TargetSpec) => `${t.backend}/${t.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("issue 16's server targets judge the named subject: ours-http ÷ http-bare, and ours-http's own p99", () => {
    const server: CaseResult[] = [
      row('redis', 'http-read', 'ours', 20_000),
      row('redis', 'http-read', 'ours-http', 8_000, { latency: { ...series(1.5), p50: 1 } }),
      row('redis', 'http-read', 'http-bare', 10_000),
      row('redis', 'http-write', 'ours-http', 7_000, { latency: { ...series(2.5), p50: 1 } }),
      row('redis', 'http-write', 'http-bare', 10_000),
      row('redis', 'wake-claim', 'ours-http', 100, { latency: series(1.9) }),
    ];
    const by = new Map(judgeTargets(server, ['redis']).filter((t) => t.issue === 16).map((t) => [t.name, t]));
    expect(by.get('HTTP read vs a bare Fastify route')).toMatchObject({ measured: 0.8, verdict: 'met', rule: 'http-read: ours-http/http-bare ≥ 0.8' });
    expect(by.get('HTTP write vs a bare Fastify route')).toMatchObject({ measured: 0.7, verdict: 'not met' });
    expect(by.get('HTTP read p99')).toMatchObject({ measured: 1.5, verdict: 'met', rule: 'http-read: ours-http p99 < 2 ms' });
    expect(by.get('HTTP write p99')).toMatchObject({ measured: 2.5, verdict: 'not met' });
    expect(by.get('blocked claim woken p99')).toMatchObject({ measured: 1.9, verdict: 'met' });
    expect(by.get('SSE subscriber woken p99')).toMatchObject({ verdict: 'not measured' });
  });
});
