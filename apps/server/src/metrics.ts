/**
 * `GET /metrics`: Prometheus text through prom-client. HTTP requests and latency per route and
 * status (a prom-client histogram), plus the store client's own metrics from core
 * (`metricsOf(state)`): calls and errors by code per operation, latency histogram per operation,
 * lock, queue and log counters, read at scrape time (nothing is copied per call).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS_MS, metricsOf, type StateClient } from '@agent-state/core';

const HTTP_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route' | 'status'>;

  constructor(private readonly state?: StateClient) {
    this.#requests = new Counter({ name: 'agent_state_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
    this.#duration = new Histogram({ name: 'agent_state_http_request_duration_ms', help: 'Request latency (ms).', labelNames: ['method', 'route', 'status'], buckets: HTTP_BUCKETS_MS, registers: [this.registry] });
    const m = () => (state ? metricsOf(state)?.snapshot() : undefined);
    const registers = [this.registry];
    new Counter({
      name: 'agent_state_op_calls_total',
      help: 'Backend calls per operation.',
      labelNames: ['backend', 'op'],
      registers,
      collect() {
        this.reset();
        const s = m();
        for (const o of s?.ops ?? []) this.inc({ backend: s!.backend, op: o.op }, o.calls);
      },
    });
    new Counter({
      name: 'agent_state_op_errors_total',
      help: 'Backend calls that failed, per operation and error code.',
      labelNames: ['backend', 'op', 'code'],
      registers,
      collect() {
        this.reset();
        const s = m();
        for (const o of s?.ops ?? []) for (const [code, n] of Object.entries(o.errorsByCode)) this.inc({ backend: s!.backend, op: o.op, code }, n);
      },
    });
    new Counter({
      name: 'agent_state_lock_events_total',
      help: 'Lock events per resource prefix: acquired, contended (an attempt that found a live holder), released, lost, extended.',
      labelNames: ['prefix', 'event'],
      registers,
      collect() {
        this.reset();
        for (const [prefix, c] of Object.entries(m()?.locks ?? {})) for (const [event, n] of Object.entries(c)) this.inc({ prefix, event }, n);
      },
    });
    new Counter({
      name: 'agent_state_queue_events_total',
      help: 'Queue events through this server: enqueued, claimed, empty, acked, nacked, extended, stale, retriedDead, deletedDead.',
      labelNames: ['queue', 'event'],
      registers,
      collect() {
        this.reset();
        for (const [queue, c] of Object.entries(m()?.queues ?? {})) for (const [event, n] of Object.entries(c)) this.inc({ queue, event }, n);
      },
    });
    new Counter({
      name: 'agent_state_log_records_total',
      help: 'Log records appended and read per family (mail: appended = messages sent, removed = acked, i.e. delivered; ch: channels; log: user logs).',
      labelNames: ['family', 'event'],
      registers,
      collect() {
        this.reset();
        for (const [family, c] of Object.entries(m()?.logs ?? {})) for (const [event, n] of Object.entries(c)) this.inc({ family, event }, n);
      },
    });
    new Gauge({
      name: 'agent_state_locks_held',
      help: 'Leases held through this server.',
      registers,
      collect() {
        this.set(m()?.held.length ?? 0);
      },
    });
  }

  /** The counter and histogram children of each method/route/status seen (prom-client hashes a label set on every call otherwise). */
  readonly #children = new Map<string, { requests: { inc(): void }; duration: { observe(ms: number): void } }>();

  /** Counts one HTTP request and its latency. */
  observe(route: string, method: string, status: number, ms: number): void {
    const id = `${method} ${status} ${route}`;
    let child = this.#children.get(id);
    if (child === undefined) {
      const labels = { method, route, status: String(status) };
      child = { requests: this.#requests.labels(labels), duration: this.#duration.labels(labels) };
      this.#children.set(id, child);
    }
    child.requests.inc();
    child.duration.observe(ms);
  }

  /** The op latency histogram, from core's fixed buckets (prom-client cannot load bucket counts). */
  #opHistogram(): string {
    const s = this.state ? metricsOf(this.state)?.snapshot() : undefined;
    if (!s || s.ops.length === 0) return '';
    const lines = ['# HELP agent_state_op_duration_ms Backend call latency (ms) per operation.', '# TYPE agent_state_op_duration_ms histogram'];
    for (const o of s.ops) {
      const id = `backend="${esc(s.backend)}",op="${esc(o.op)}"`;
      let acc = 0;
      LATENCY_BUCKETS_MS.forEach((b, i) => {
        acc += o.buckets[i]!;
        lines.push(`agent_state_op_duration_ms_bucket{${id},le="${b}"} ${acc}`);
      });
      lines.push(`agent_state_op_duration_ms_bucket{${id},le="+Inf"} ${o.calls}`, `agent_state_op_duration_ms_sum{${id}} ${o.sumMs}`, `agent_state_op_duration_ms_count{${id}} ${o.calls}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async render(): Promise<string> {
    return (await this.registry.metrics()) + this.#opHistogram();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
