#!/usr/bin/env node
/**
 * One swarm agent: registers, heartbeats, takes the tasks addressed to it from its own queue,
 * does them (with a shared lock around a "resource"), and writes one result per task, exactly
 * once. Listens on the `swarm` channel for cycle announcements and to its mailbox for shutdown.
 *
 * Usage (the coordinator starts it): node agent.mjs <agentId> <configJson|-> [heartbeatMs]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openState } from '@agent-state/core';

const [agentId, configArg = '-', heartbeatArg = '1000'] = process.argv.slice(2);
const state = await openState(configArg === '-' ? {} : { config: JSON.parse(configArg) });
const heartbeatMs = Number(heartbeatArg);
const queue = state.queue(`agent-${agentId}`);
const inbox = state.mailbox(agentId);
const deliveries = [];
let tasksCompleted = 0;

await state.agents.register(agentId, { role: 'agent', pid: process.pid }, { heartbeatIntervalMs: heartbeatMs, pid: process.pid });
const unsubscribe = await state.subscribe('swarm', (_message, meta) => {
  deliveries.push(Date.now() - meta.publishedAt);
}, { pollMs: 2, idlePollMs: 20 });

let lastBeat = Date.now();
let lastMail = 0;
let idle = 1;
for (let running = true; running; ) {
  const job = await queue.dequeue({ leaseMs: 10_000 });
  if (job) {
    idle = 1;
    const assignedAt = Date.now();
    const task = job.payload;
    const lockStarted = performance.now();
    const lock = await state.lock(`swarm/resource-${task.resource}`, { ttlMs: 5_000, waitMs: 10_000 });
    const lockMs = performance.now() - lockStarted;
    await state.increment(`swarm/${task.session}/resource-${task.resource}/uses`);
    await lock.release();
    await state.write(
      `swarm/${task.session}/results/${task.cycle}/${agentId}`,
      {
        taskId: task.taskId,
        agentId,
        cycle: task.cycle,
        status: 'success',
        assignmentMs: assignedAt - task.enqueuedAt,
        lockMs,
        deliveryMs: deliveries.splice(0),
        completedAt: Date.now(),
      },
      { ifVersion: 'absent' },
    );
    await job.ack();
    tasksCompleted++;
  } else {
    await sleep(idle);
    idle = Math.min(20, idle * 2);
  }
  const now = Date.now();
  if (now - lastBeat >= heartbeatMs) {
    lastBeat = now;
    await state.agents.heartbeat(agentId, { tasksCompleted, rss: process.memoryUsage().rss });
  }
  if (now - lastMail >= 100) {
    lastMail = now;
    const mail = await inbox.receive({ from: 'coordinator' });
    if (mail.length > 0) {
      await inbox.ack(mail);
      running = !mail.some((m) => m.message?.command === 'shutdown');
    }
  }
}
await unsubscribe();
await state.agents.unregister(agentId);
await state.close();
