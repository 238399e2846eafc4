/**
 * One picture of a store for the dashboard and `agent-state top`: agents, queues (counts, oldest
 * waiting job, dead letters, throughput), every lease held in the store (`backend.listLocks`;
 * else those held through this process), lock contention,
 * mailbox traffic, log tails and op rates with p99. Read-only: only list/read/count calls.
 */
import { families, metricsOf, type MetricsSnapshot, type StateClient } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';

export interface DeadLetterView {
  id: string;
  attempts: number;
  enqueuedAt: number;
  payload: unknown;
}

export interface QueueView {
  name: string;
  waiting: number;
  inFlight: number;
  delayed: number;
  dead: number;
  /** Age (ms) of the oldest waiting job, or null when none waits. */
  oldestWaitingMs: number | null;
  deadLetters: DeadLetterView[];
  /** Jobs that left the queue per second, one point per refresh (newest last). */
  throughput: number[];
}

/** One held lease on the dashboard. */
export interface LockView {
  resource: string;
  owner: string;
  token: number;
  expiresAt: number;
  leftMs: number;
  /** When this process took it; null for another holder's lease. */
  since: number | null;
  /** True when the lease was taken through this process (this server). */
  viaServer: boolean;
  /** Waiting acquirers, where the backend knows them; null where it does not. */
  waiters: number | null;
}

export interface Snapshot {
  at: number;
  backend: string;
  namespace: string;
  actions: boolean;
  agents: { agentId: string; status: string; lastHeartbeat: number; info: unknown; metrics: unknown }[];
  queues: QueueView[];
  /**
   * Held leases: every holder's (`lockSource: 'store'`, from `backend.listLocks()`), or only
   * those taken through this process when the backend cannot list its leases (`'server'`).
   * `since` is known for this process's own leases only; `waiters` where the backend registers
   * lock waiters (none does today: core waits with backoff), else null and `contention` says how
   * contended the resource's prefix is.
   */
  locks: LockView[];
  lockSource: 'store' | 'server';
  contention: { prefix: string; acquired: number; contended: number; released: number; lost: number }[];
  mail: { to: string; from: string; sentAt: number; message: unknown }[];
  logs: { name: string; tail: { seq: number; at: number; record: unknown }[] }[];
  ops: { op: string; calls: number; errors: number; ratePerSec: number; p99Ms: number | null }[];
}

const parse = (json: string): unknown => {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
};

const LIMIT = { queues: 50, dead: 10, mailboxes: 20, mailPer: 5, logs: 20, logTail: 5, points: 60 };

/** Keeps the history a live view needs between two pictures (throughput, op rates). */
export class SnapshotTaker {
  #prevQueues = new Map<string, { total: number; enqueued: number; at: number }>();
  #throughput = new Map<string, number[]>();
  #prevOps: { at: number; calls: Map<string, number> } | undefined;

  constructor(
    private readonly state: StateClient,
    private readonly options: { actions?: boolean } = {},
  ) {}

  async take(): Promise<Snapshot> {
    const state = this.state;
    const now = Date.now();
    const f = families(state);
    const metrics: MetricsSnapshot | undefined = metricsOf(state)?.snapshot();
    const backend = backendOf(state);
    const listLocks = backend.listLocks?.bind(backend);
    const [agents, queueNames, mailNames, logNames, stored] = await Promise.all([
      state.agents.list(),
      f.queues.names(),
      f.logs.names('mail/'),
      f.logs.names('log/'),
      listLocks ? listLocks() : undefined,
    ]);
    const own = new Map((metrics?.held ?? []).map((l) => [l.resource, l]));
    const locks: LockView[] = (stored ?? [...own.values()]).map((l) => {
      const mine = own.get(l.resource);
      const viaServer = mine !== undefined && mine.token === l.token && mine.owner === l.owner;
      return { resource: l.resource, owner: l.owner, token: l.token, expiresAt: l.expiresAt, leftMs: Math.max(0, l.expiresAt - now), since: viaServer ? mine.since : null, viaServer, waiters: null };
    });

    const queues = await Promise.all(
      queueNames.slice(0, LIMIT.queues).map(async (name): Promise<QueueView> => {
        const [counts, oldest, dead] = await Promise.all([
          f.queues.counts(name),
          f.queues.jobs(name, { state: 'waiting', limit: 1 }),
          f.queues.jobs(name, { state: 'dead', limit: LIMIT.dead }),
        ]);
        const total = counts.waiting + counts.inFlight + counts.delayed;
        const enqueued = metrics?.queues[name]?.enqueued ?? 0;
        const prev = this.#prevQueues.get(name);
        const points = this.#throughput.get(name) ?? [];
        if (prev && now > prev.at) {
          // Jobs that left (acked, or dead-lettered) since the last picture: the drop in depth plus
          // what was enqueued through this server meanwhile (others' enqueues are not seen).
          const left = Math.max(0, prev.total - total + (enqueued - prev.enqueued));
          points.push(Math.round((left * 1000) / (now - prev.at)));
          if (points.length > LIMIT.points) points.shift();
        }
        this.#prevQueues.set(name, { total, enqueued, at: now });
        this.#throughput.set(name, points);
        return {
          name,
          ...counts,
          oldestWaitingMs: oldest[0] ? Math.max(0, now - oldest[0].enqueuedAt) : null,
          deadLetters: dead.map((d) => ({ id: d.id, attempts: d.attempts, enqueuedAt: d.enqueuedAt, payload: parse(d.json) })),
          throughput: [...points],
        };
      }),
    );

    const mail: Snapshot['mail'] = [];
    await Promise.all(
      mailNames.slice(0, LIMIT.mailboxes).map(async (log) => {
        const last = await f.logs.lastSeq(log);
        for (const r of await f.logs.read(log, { after: Math.max(0, last - LIMIT.mailPer), limit: LIMIT.mailPer })) {
          const m = parse(r.json) as { from?: string; to?: string; sentAt?: number; message?: unknown };
          mail.push({ to: m.to ?? log.slice(5), from: m.from ?? '?', sentAt: m.sentAt ?? r.at, message: m.message ?? null });
        }
      }),
    );
    mail.sort((a, b) => b.sentAt - a.sentAt);

    const logs = await Promise.all(
      logNames.slice(0, LIMIT.logs).map(async (log) => {
        const last = await f.logs.lastSeq(log);
        const tail = (await f.logs.read(log, { after: Math.max(0, last - LIMIT.logTail), limit: LIMIT.logTail })).map((r) => ({ seq: r.seq, at: r.at, record: parse(r.json) }));
        return { name: log.slice(4), tail };
      }),
    );

    const ops: Snapshot['ops'] = [];
    if (metrics) {
      const calls = new Map(metrics.ops.map((o) => [o.op, o.calls]));
      const prev = this.#prevOps;
      for (const o of metrics.ops) {
        const dt = prev ? (now - prev.at) / 1000 : 0;
        const before = prev?.calls.get(o.op) ?? 0;
        ops.push({ op: o.op, calls: o.calls, errors: o.errors, ratePerSec: dt > 0 ? Math.round(((o.calls - before) / dt) * 10) / 10 : 0, p99Ms: o.p99Ms });
      }
      this.#prevOps = { at: now, calls };
    }

    return {
      at: now,
      backend: state.backendName,
      namespace: state.namespace,
      actions: this.options.actions === true,
      agents: agents.map((a) => ({ agentId: a.agentId, status: a.status, lastHeartbeat: a.lastHeartbeat, info: a.info, metrics: a.metrics })),
      queues,
      locks,
      lockSource: stored ? 'store' : 'server',
      contention: Object.entries(metrics?.locks ?? {}).map(([prefix, c]) => ({ prefix, acquired: c.acquired, contended: c.contended, released: c.released, lost: c.lost })),
      mail: mail.slice(0, 50),
      logs,
      ops: ops.sort((a, b) => b.calls - a.calls),
    };
  }
}
