#!/usr/bin/env node
/**
 * One swarm agent: registers, heartbeats, takes the tasks addressed to it from its own queue,
 * does them (with a shared lock around a "resource"), writes one result per task exactly once
 * and sends it to the coordinator's mailbox. Hears cycle announcements on the `swarm` channel
 * and `shutdown` in its own mailbox. It never polls: it waits in `dequeue({ waitMs })` and
 * `receive({ waitMs })`, which the backend's notification wakes.
 *
 * Usage (the coordinator starts it): node agent.mjs <agentId> <configJson|-> [heartbeatMs] [coordinatorId]
 */
import { openState } from '@agent-state/core';

const [agentId, configArg = '-', heartbeatArg = '1000', coordinatorId = 'coordinator'] = process.argv.slice(2);
const state = await openState(configArg === '-' ? {} : { config: JSON.parse(configArg) });
const heartbeatMs = Number(heartbeatArg);
const queue = state.queue(`agent-${agentId}`);
const inbox = state.mailbox(agentId);
const deliveries = [];
const stop = new AbortController();
let tasksCompleted = 0;

await state.agents.register(agentId, { role: 'agent', pid: process.pid }, { heartbeatIntervalMs: heartbeatMs, pid: process.pid });
const subscription = await state.subscribe(
  'swarm',
  (_message, meta) => {
    deliveries.push(Date.now() - meta.publishedAt);
  },
  { onError: (error) => process.stderr.write(`${agentId}: swarm channel: ${error?.message ?? error}\n`) },
);
const heartbeat = setInterval(() => {
  state.agents.heartbeat(agentId, { tasksCompleted, rss: process.memoryUsage().rss }).catch(() => undefined);
}, heartbeatMs);

/** Rejections of an aborted wait mean "stop"; anything else is a real error. */
const unlessStopped = (error) => {
  if (stop.signal.aborted) return null;
  throw error;
};

// The mailbox: wait for the coordinator's commands; `shutdown` ends both loops.
const mail = (async () => {
  while (!stop.signal.aborted) {
    const messages = await inbox.receive({ from: coordinatorId, waitMs: 60_000, signal: stop.signal }).catch(unlessStopped);
    if (!messages || messages.length === 0) continue;
    await inbox.ack(messages);
    if (messages.some((m) => m.message?.command === 'shutdown')) stop.abort();
  }
})();

await inbox.send(coordinatorId, { type: 'ready', agentId });

// The queue: wait for a task, do it, report it.
while (!stop.signal.aborted) {
  const job = await queue.dequeue({ leaseMs: 10_000, waitMs: 60_000, signal: stop.signal }).catch(unlessStopped);
  if (!job) continue;
  const assignedAt = Date.now();
  const task = job.payload;
  const lockStarted = performance.now();
  const lock = await state.lock(`swarm/resource-${task.resource}`, { ttlMs: 5_000, waitMs: 10_000 });
  const lockMs = performance.now() - lockStarted;
  await state.increment(`swarm/${task.session}/resource-${task.resource}/uses`);
  await lock.release();
  const result = {
    type: 'result',
    taskId: task.taskId,
    agentId,
    cycle: task.cycle,
    status: 'success',
    assignmentMs: assignedAt - task.enqueuedAt,
    lockMs,
    deliveryMs: deliveries.splice(0),
    completedAt: Date.now(),
  };
  await state.write(`swarm/${task.session}/results/${task.cycle}/${agentId}`, result, { ifVersion: 'absent' });
  await inbox.send(coordinatorId, result);
  await job.ack();
  tasksCompleted++;
}
await mail;
clearInterval(heartbeat);
await subscription();
await state.agents.unregister(agentId);
await state.close();
