/**
 * The swarm scenario of the coordination issue: a coordinator (this process) and N agent
 * processes. Each cycle the coordinator announces the cycle on a channel and enqueues one task
 * per agent on that agent's queue; agents take it, hold a shared lock around a counter, write a
 * result and ack. Reports the seed's p99 figures: assignment, lock acquisition, message delivery.
 * Nothing polls: agents block in `dequeue({ waitMs })`, the coordinator in its mailbox's
 * `receive({ waitMs })`, where every agent sends its result.
 */
import { nextMessage, startWorker, stopWorkers } from '../harness/processes.js';
import type { Profile } from '../profile.js';
import type { StoreRef, Subject } from '../subjects/types.js';
import type { CustomOutcome, Workload } from './types.js';

/** What an agent writes (and sends to the coordinator's mailbox) per task. */
export interface SwarmResult {
  taskId: string;
  cycle: number;
  agentId: string;
  assignmentMs: number;
  lockMs: number;
}

const RESOURCES = 5;

async function runSwarm(store: StoreRef, profile: Profile, subject: Subject, agents: number): Promise<CustomOutcome> {
  const state = subject.state!;
  const session = `s${Date.now().toString(36)}`;
  const ids = Array.from({ length: agents }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`);
  const coordinator = `coordinator-${session}`;
  const inbox = state.mailbox(coordinator);
  const children = ids.map((agentId) => startWorker({ mode: 'swarm-agent', store, agentId, session }));
  const assignment: number[] = [];
  const lock: number[] = [];
  const delivery: number[] = [];
  let received = 0;
  const started = Date.now();
  try {
    await Promise.all(children.map((c) => nextMessage(c, 'ready', 120_000)));
    const t0 = Date.now();
    for (let cycle = 1; cycle <= profile.swarmCycles; cycle++) {
      await state.publish('swarm', { type: 'cycle-start', session, cycle });
      for (const [i, id] of ids.entries()) {
        await state
          .queue(`agent-${id}`)
          .enqueue({ session, cycle, taskId: `task-${cycle}-${id}`, resource: i % RESOURCES, enqueuedAt: Date.now(), replyTo: coordinator });
      }
      const deadline = performance.now() + 60_000;
      const results = new Map<string, SwarmResult>();
      while (results.size < agents && performance.now() < deadline) {
        const mail = await inbox.receive({ waitMs: Math.max(1, deadline - performance.now()) });
        for (const m of mail) {
          const r = m.message as unknown as SwarmResult;
          if (r.cycle === cycle) results.set(r.agentId, r);
        }
        if (mail.length > 0) await inbox.ack(mail);
      }
      received += results.size;
      assignment.push(...[...results.values()].map((r) => r.assignmentMs));
      lock.push(...[...results.values()].map((r) => r.lockMs));
    }
    const elapsedMs = Date.now() - t0;
    const data = children.map((c) => nextMessage(c, 'data', 30_000));
    for (const c of children) c.send({ type: 'report' });
    let leasesLost = 0;
    for (const d of await Promise.all(data)) {
      delivery.push(...(d.values['delivery'] ?? []));
      leasesLost += (d.values['leasesLost'] ?? []).reduce((a, b) => a + b, 0);
    }
    let uses = 0;
    for (let r = 0; r < RESOURCES; r++) uses += ((await state.read(`swarm/${session}/resource-${r}/uses`))?.value as number | undefined) ?? 0;
    const expected = agents * profile.swarmCycles;
    // Every result exactly once in the store, too (written with ifVersion 'absent').
    let stored = 0;
    for (let cycle = 1; cycle <= profile.swarmCycles; cycle++) {
      stored += (await state.readMany(ids.map((id) => `swarm/${session}/results/${cycle}/${id}`))).filter(Boolean).length;
    }
    return {
      ops: received,
      elapsedMs,
      latencies: assignment,
      series: { assignment, lock, delivery },
      facts: { agents, cycles: profile.swarmCycles, results: `${received}/${expected}`, stored: `${stored}/${expected}`, lockedCounter: `${uses}/${expected}`, leasesLost, startupMs: t0 - started },
    };
  } finally {
    await stopWorkers(children);
  }
}

/** The swarm workloads of a profile (one per agent count). */
export function swarmWorkloads(profile: Profile): Workload[] {
  return profile.swarmAgents.map((agents) => ({
    id: `swarm-${agents}`,
    title: `swarm ${agents} agents`,
    description: `Coordinator + ${agents} agent processes: queue per agent, shared locks, results in the store, cycle announcements on a channel.`,
    needs: ['state'],
    axis: () => ({ inflight: 1, processes: agents }),
    custom: (store, p, subject) => runSwarm(store, p, subject, agents),
  }));
}
