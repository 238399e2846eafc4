/**
 * The swarm scenario of the coordination issue: a coordinator (this process) and N agent
 * processes. Each cycle the coordinator announces the cycle on a channel and enqueues one task
 * per agent on that agent's queue; agents take it, hold a shared lock around a counter, write a
 * result and ack. Reports the seed's p99 figures: assignment, lock acquisition, message delivery.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nextMessage, startWorker, stopWorkers } from '../harness/processes.js';
import type { Profile } from '../profile.js';
import type { StoreRef, Subject } from '../subjects/types.js';
import type { CustomOutcome, Workload } from './types.js';

/** What an agent writes per task. */
export interface SwarmResult {
  taskId: string;
  assignmentMs: number;
  lockMs: number;
}

const RESOURCES = 5;

async function runSwarm(store: StoreRef, profile: Profile, subject: Subject, agents: number): Promise<CustomOutcome> {
  const state = subject.state!;
  const session = `s${Date.now().toString(36)}`;
  const ids = Array.from({ length: agents }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`);
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
        await state.queue(`agent-${id}`).enqueue({ session, cycle, taskId: `task-${cycle}-${id}`, resource: i % RESOURCES, enqueuedAt: Date.now() });
      }
      const keys = ids.map((id) => `swarm/${session}/results/${cycle}/${id}`);
      const deadline = Date.now() + 60_000;
      let results: SwarmResult[] = [];
      while (Date.now() < deadline) {
        results = (await state.readMany(keys)).flatMap((e) => (e ? [e.value as unknown as SwarmResult] : []));
        if (results.length === agents) break;
        await sleep(5);
      }
      received += results.length;
      assignment.push(...results.map((r) => r.assignmentMs));
      lock.push(...results.map((r) => r.lockMs));
    }
    const elapsedMs = Date.now() - t0;
    const data = children.map((c) => nextMessage(c, 'data', 30_000));
    for (const c of children) c.send({ type: 'report' });
    for (const d of await Promise.all(data)) delivery.push(...(d.values['delivery'] ?? []));
    let uses = 0;
    for (let r = 0; r < RESOURCES; r++) uses += ((await state.read(`swarm/${session}/resource-${r}/uses`))?.value as number | undefined) ?? 0;
    const expected = agents * profile.swarmCycles;
    return {
      ops: received,
      elapsedMs,
      latencies: assignment,
      series: { assignment, lock, delivery },
      facts: { agents, cycles: profile.swarmCycles, results: `${received}/${expected}`, lockedCounter: `${uses}/${expected}`, startupMs: t0 - started },
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
