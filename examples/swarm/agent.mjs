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
import { setTimeout as sleep } from 'node:timers/promises';
import { openState } from '@agent-state/core';

const [agentId, configArg = '-', heartbeatArg = '1000', coordinatorId = 'coordinator'] = process.argv.slice(2);
const stop = new AbortController();
let opened = false;
// Started with an IPC channel by the coordinator: when it goes away (crash, kill), so do we.
process.on('disconnect', () => {
  stop.abort();
  if (!opened) process.exit(1);
});
process.channel?.unref();
// A hundred agents opening the store at once on two cores can miss connect_timeout_ms: retried.
const state = await retrying('open', () => openState(configArg === '-' ? {} : { config: JSON.parse(configArg) }));
opened = true;
const heartbeatMs = Number(heartbeatArg);
const queue = state.queue(`agent-${agentId}`);
const inbox = state.mailbox(agentId);
const deliveries = [];
let tasksCompleted = 0;
let leasesLost = 0;

await retrying('register', () =>
  state.agents.register(agentId, { role: 'agent', pid: process.pid }, { heartbeatIntervalMs: heartbeatMs, pid: process.pid }),
);
const subscription = await retrying('subscribe', () =>
  state.subscribe(
    'swarm',
    (_message, meta) => {
      deliveries.push(Date.now() - meta.publishedAt);
    },
    { onError: (error) => process.stderr.write(`${agentId}: swarm channel: ${error?.message ?? error}\n`) },
  ),
);
const heartbeat = setInterval(() => {
  state.agents.heartbeat(agentId, { tasksCompleted, rss: process.memoryUsage().rss }).catch(() => undefined);
}, heartbeatMs);

/**
 * Runs `step`, again after a pause while the store answers BACKEND_UNAVAILABLE (a SQLite database
 * locked past its busy timeout by a hundred agents starting at once, a Redis reconnect), for up to
 * a minute after the first failure; then the error stands. Every other error is thrown at once.
 */
async function retrying(what, step) {
  // The minute runs from the first failure: a step that legitimately waited long (a dequeue or
  // receive with waitMs, a lock wait) and then met a busy store still gets its retries.
  let deadline;
  for (let pause = 50; ; pause = Math.min(1_000, pause * 2)) {
    try {
      return await step();
    } catch (error) {
      deadline ??= performance.now() + 60_000;
      if (error?.code !== 'BACKEND_UNAVAILABLE' || stop.signal.aborted || performance.now() > deadline) throw error;
      process.stderr.write(`${agentId}: ${what}: ${error.message.split('\n')[0]}; retrying in ${pause} ms\n`);
      await sleep(pause);
    }
  }
}

/**
 * Takes the lock on `resource` (lease 30 s), waiting 30 s at a time: a hundred agents on two busy
 * cores can queue longer than one wait, and each timeout is said on stderr.
 */
async function takeLock(resource) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await retrying('lock', () => state.lock(resource, { ttlMs: 30_000, waitMs: 30_000 }));
    } catch (error) {
      if (error?.code !== 'LOCK_TIMEOUT' || attempt >= 10 || stop.signal.aborted) throw error;
      process.stderr.write(`${agentId}: ${error.message}; waiting again\n`);
    }
  }
}

/** User + system CPU time of this process since `mark` (a `process.cpuUsage()`), in ms. */
function cpuSince(mark) {
  const { user, system } = process.cpuUsage(mark);
  return Math.round((user + system) / 100) / 10;
}

/** Rejections of an aborted wait mean "stop"; anything else is a real error. */
const unlessStopped = (error) => {
  if (stop.signal.aborted) return null;
  throw error;
};

// The mailbox: wait for the coordinator's commands; `shutdown` ends both loops.
const mail = (async () => {
  while (!stop.signal.aborted) {
    const messages = await retrying('receive', () => inbox.receive({ from: coordinatorId, waitMs: 60_000, signal: stop.signal })).catch(unlessStopped);
    if (!messages || messages.length === 0) continue;
    await retrying('ack mail', () => inbox.ack(messages));
    if (messages.some((m) => m.message?.command === 'shutdown')) stop.abort();
  }
})();

await retrying('send ready', () => inbox.send(coordinatorId, { type: 'ready', agentId }));

// The queue: wait for a task, do it, report it. Each result says how much CPU this process used
// since the one before (the wakeup, the claim, the lock, the writes, heartbeats): what one task
// costs the machine, whatever the scheduler did with the wall clock.
let cpuMark = process.cpuUsage();
while (!stop.signal.aborted) {
  const job = await retrying('dequeue', () => queue.dequeue({ leaseMs: 10_000, waitMs: 60_000, signal: stop.signal })).catch(unlessStopped);
  if (!job) continue;
  const assignedAt = Date.now();
  const task = job.payload;
  const lockStarted = performance.now();
  const lock = await takeLock(`swarm/resource-${task.resource}`);
  const lockMs = performance.now() - lockStarted;
  await retrying('increment', () => state.increment(`swarm/${task.session}/resource-${task.resource}/uses`));
  // A lease that ran out while this process was starved of CPU is gone: the increment is atomic on
  // its own, so the count stays right; say so and go on.
  await retrying('release', () => lock.release()).catch((error) => {
    if (error?.code !== 'LOCK_LOST') throw error;
    leasesLost++;
    process.stderr.write(`${agentId}: ${error.message}\n`);
  });
  const result = {
    type: 'result',
    taskId: task.taskId,
    agentId,
    cycle: task.cycle,
    status: 'success',
    assignmentMs: assignedAt - task.enqueuedAt,
    lockMs,
    leasesLost,
    deliveryMs: deliveries.splice(0),
    completedAt: Date.now(),
    cpuMs: cpuSince(cpuMark),
  };
  cpuMark = process.cpuUsage();
  const resultKey = `swarm/${task.session}/results/${task.cycle}/${agentId}`;
  await retrying('write result', () =>
    state.write(resultKey, result, { ifVersion: 'absent' }).catch(async (error) => {
      // A retried write whose first try did land: the result is there, exactly once.
      if (error?.code === 'CONFLICT' && (await state.read(resultKey))?.value?.taskId === task.taskId) return;
      throw error;
    }),
  );
  await retrying('send result', () => inbox.send(coordinatorId, result));
  await retrying('ack', () => job.ack());
  tasksCompleted++;
}
await mail;
clearInterval(heartbeat);
if (process.connected) process.disconnect();
await subscription();
await state.agents.unregister(agentId);
await state.close();
