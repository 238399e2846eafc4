/**
 * "Which backend fits which workload", derived from the measured figures of our own rows only:
 * the backend with the best median throughput (or the lowest p99 where latency is the point).
 */
import type { CaseResult } from './results.js';

const QUESTIONS: { workload: string; need: string; by: 'throughput' | 'p99' }[] = [
  { workload: 'ycsb-c', need: 'read-heavy state (YCSB C)', by: 'throughput' },
  { workload: 'ycsb-b', need: 'read-mostly state (YCSB B)', by: 'throughput' },
  { workload: 'ycsb-a', need: 'mixed read/update (YCSB A)', by: 'throughput' },
  { workload: 'write', need: 'durable writes', by: 'throughput' },
  { workload: 'ycsb-f', need: 'read-modify-write (YCSB F)', by: 'throughput' },
  { workload: 'ycsb-a-procs', need: 'many processes on one store', by: 'throughput' },
  { workload: 'lock', need: 'locks', by: 'throughput' },
  { workload: 'lock-contended', need: 'contended locks across processes', by: 'throughput' },
  { workload: 'transfer', need: 'multi-key transactions', by: 'throughput' },
  { workload: 'queue', need: 'task queues', by: 'throughput' },
  { workload: 'queue-drain-8', need: 'draining a backlog with 8 workers', by: 'throughput' },
  { workload: 'log-append', need: 'append-only logs', by: 'throughput' },
  { workload: 'log-follow', need: 'following a log (append → reader)', by: 'p99' },
  { workload: 'pubsub', need: 'pub/sub delivery latency', by: 'p99' },
];

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));

/** One line per question that at least one backend answered. */
export function recommend(cases: readonly CaseResult[]): string[] {
  const lines: string[] = [];
  const ours = cases.filter((c) => c.subject === 'ours' && c.status === 'ok');
  for (const q of QUESTIONS) {
    const rows = ours.filter((c) => c.workload === q.workload);
    if (rows.length === 0) continue;
    const score = (c: CaseResult): number => (q.by === 'throughput' ? (c.throughput?.median ?? 0) : -(c.latency?.p99 ?? Infinity));
    const ranked = [...rows].sort((a, b) => score(b) - score(a));
    const best = ranked[0]!;
    const next = ranked[1];
    const figure = q.by === 'throughput' ? `${fmt(best.throughput?.median ?? 0)} ops/s` : `p99 ${fmt(best.latency?.p99 ?? 0)} ms`;
    let versus = '';
    if (next) {
      versus =
        q.by === 'throughput'
          ? `, ${fmt((best.throughput?.median ?? 0) / (next.throughput?.median || 1))}× ${next.backend}`
          : `, vs ${next.backend} p99 ${fmt(next.latency?.p99 ?? 0)} ms`;
    }
    lines.push(`${q.need}: ${best.backend} (${figure}${versus})`);
  }
  const swarms = ours.filter((c) => c.workload.startsWith('swarm-'));
  if (swarms.length > 0) {
    const largest = Math.max(...swarms.map((c) => c.axis.processes));
    const rows = swarms.filter((c) => c.axis.processes === largest && (c.series?.['assignment']?.count ?? 0) > 0);
    const best = [...rows].sort((a, b) => (a.series!['assignment']!.p99 ?? 0) - (b.series!['assignment']!.p99 ?? 0))[0];
    if (best) lines.push(`a swarm of ${largest} agent processes: ${best.backend} (assignment p99 ${fmt(best.series!['assignment']!.p99)} ms)`);
  }
  if (lines.length > 0) {
    // Not a measurement: where each backend can run at all, which the figures above cannot show.
    lines.push('Deployment (not measured): file and SQLite serve processes on one machine; Redis, Postgres and Firebase serve several machines.');
  }
  return lines;
}
