/** Renders a dashboard picture as plain text for a terminal (ANSI colors when asked). */
import type { Snapshot } from '@agent-state/server';

const ESC = '\u001b[';
const paint = (color: boolean, code: string, text: string) => (color ? `${ESC}${code}m${text}${ESC}0m` : text);

export function age(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

const BARS = '▁▂▃▄▅▆▇█';
function spark(points: number[]): string {
  if (points.length === 0) return '-';
  const max = Math.max(1, ...points);
  return points.slice(-20).map((p) => BARS[Math.min(7, Math.round((p / max) * 7))]).join('') + ` ${points[points.length - 1]}/s`;
}

const short = (v: unknown, n: number) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
};

/** Columns padded to their widest cell. */
function table(head: string[], rows: string[][], right: Set<number> = new Set()): string[] {
  // eslint-disable-next-line no-control-regex -- the ESC of the color codes
  const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
  const widths = head.map((h, i) => Math.max(plain(h).length, ...rows.map((r) => plain(r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - plain(c).length));
        return right.has(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

export function render(s: Snapshot, options: { color: boolean; width?: number }): string {
  const c = options.color;
  const title = (t: string) => paint(c, '1;36', t);
  const dim = (t: string) => paint(c, '2', t);
  const status = (t: string) => paint(c, t === 'healthy' ? '32' : t === 'unhealthy' ? '33' : '31', t);
  const out: string[] = [];
  out.push(`${paint(c, '1', 'agent-state top')}  ${dim(`backend ${s.backend} · namespace ${s.namespace} · ${new Date(s.at).toISOString()}`)}`);
  out.push('', title(`AGENTS (${s.agents.length})`));
  if (s.agents.length === 0) out.push(dim('  none registered'));
  else out.push(...table(['agent', 'status', 'last heartbeat', 'metrics'], s.agents.map((a) => [a.agentId, status(a.status), `${age(s.at - a.lastHeartbeat)} ago`, a.metrics == null ? '' : short(a.metrics, 40)])).map((l) => `  ${l}`));
  out.push('', title(`QUEUES (${s.queues.length})`));
  if (s.queues.length === 0) out.push(dim('  none'));
  else
    out.push(
      ...table(
        ['queue', 'waiting', 'in flight', 'delayed', 'dead', 'oldest', 'throughput'],
        s.queues.map((q) => [q.name, String(q.waiting), String(q.inFlight), String(q.delayed), q.dead > 0 ? paint(c, '31', String(q.dead)) : '0', age(q.oldestWaitingMs), spark(q.throughput)]),
        new Set([1, 2, 3, 4, 5]),
      ).map((l) => `  ${l}`),
    );
  const dead = s.queues.flatMap((q) => q.deadLetters.map((d) => [q.name, d.id, String(d.attempts), short(d.payload, 50)]));
  if (dead.length > 0) out.push('', title(`DEAD LETTERS (${dead.length})`), ...table(['queue', 'job', 'attempts', 'payload'], dead).map((l) => `  ${l}`));
  // Every holder's leases when the backend lists them (lockSource 'store'), else only this process's.
  const everyHolder = s.lockSource === 'store';
  out.push('', `${title(`LOCKS HELD (${s.locks.length})`)}  ${dim(everyHolder ? 'every holder' : 'through this process only: the backend cannot list its leases')}`);
  if (s.locks.length === 0) out.push(dim(everyHolder ? '  none held' : '  none held through this process'));
  else out.push(...table(['resource', 'owner', 'token', 'left'], s.locks.map((l) => [l.resource, l.owner, String(l.token), age(l.leftMs)]), new Set([2, 3])).map((l) => `  ${l}`));
  if (s.contention.length > 0)
    out.push(...table(['prefix', 'acquired', 'contended', 'released', 'lost'], s.contention.map((x) => [x.prefix, String(x.acquired), String(x.contended), String(x.released), String(x.lost)]), new Set([1, 2, 3, 4])).map((l) => `  ${l}`));
  if (s.mail.length > 0) out.push('', title(`MAILBOXES (${s.mail.length} waiting)`), ...s.mail.slice(0, 8).map((m) => `  ${new Date(m.sentAt).toISOString().slice(11, 19)}  ${m.from} → ${m.to}  ${short(m.message, 60)}`));
  if (s.logs.length > 0) {
    out.push('', title('LOGS'));
    for (const l of s.logs) {
      out.push(`  ${paint(c, '1', l.name)}`);
      for (const r of l.tail) out.push(`    ${String(r.seq).padStart(6)}  ${new Date(r.at).toISOString().slice(11, 19)}  ${short(r.record, 80)}`);
    }
  }
  if (s.ops.length > 0)
    out.push(
      '',
      title('OPERATIONS'),
      ...table(['op', 'calls', 'errors', 'per s', 'p99'], s.ops.slice(0, 12).map((o) => [o.op, String(o.calls), String(o.errors), String(o.ratePerSec), o.p99Ms === null ? '-' : Number.isFinite(o.p99Ms) ? `≤${o.p99Ms}ms` : '>10s']), new Set([1, 2, 3, 4])).map((l) => `  ${l}`),
    );
  const width = options.width;
  return `${out.map((l) => (width && !c ? l.slice(0, width) : l)).join('\n')}\n`;
}
