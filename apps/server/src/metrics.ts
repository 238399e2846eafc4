/** Request counters and latency (Prometheus text format) for `GET /metrics`. */

const BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000];

interface Series {
  count: number;
  sumMs: number;
  buckets: number[];
}

/** Per route and status: a count and a latency histogram. */
export class Metrics {
  readonly #series = new Map<string, Series>();

  observe(route: string, method: string, status: number, ms: number): void {
    const id = `method="${method}",route="${route.replace(/["\\\n]/g, '_')}",status="${status}"`;
    let s = this.#series.get(id);
    if (!s) this.#series.set(id, (s = { count: 0, sumMs: 0, buckets: BUCKETS_MS.map(() => 0) }));
    s.count++;
    s.sumMs += ms;
    BUCKETS_MS.forEach((b, i) => {
      if (ms <= b) s.buckets[i]!++;
    });
  }

  render(): string {
    const lines = [
      '# HELP agent_state_http_requests_total HTTP requests by route and status.',
      '# TYPE agent_state_http_requests_total counter',
    ];
    for (const [id, s] of this.#series) lines.push(`agent_state_http_requests_total{${id}} ${s.count}`);
    lines.push('# HELP agent_state_http_request_duration_ms Request latency.', '# TYPE agent_state_http_request_duration_ms histogram');
    for (const [id, s] of this.#series) {
      BUCKETS_MS.forEach((b, i) => lines.push(`agent_state_http_request_duration_ms_bucket{${id},le="${b}"} ${s.buckets[i]}`));
      lines.push(`agent_state_http_request_duration_ms_bucket{${id},le="+Inf"} ${s.count}`);
      lines.push(`agent_state_http_request_duration_ms_sum{${id}} ${s.sumMs.toFixed(3)}`);
      lines.push(`agent_state_http_request_duration_ms_count{${id}} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
