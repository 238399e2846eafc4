#!/usr/bin/env node
/**
 * The seed's 50-agent swarm protocol on agent-state. A coordinator starts N agent processes,
 * hands each one a task per cycle through its own queue, announces cycles on a channel, collects
 * one result per agent per cycle from its mailbox, and ends by checking that nothing was lost.
 * Nothing polls: agents block in `dequeue({ waitMs })` and `receive({ waitMs })`, the coordinator
 * in `receive({ waitMs })`, all woken by the backend's own notification.
 *
 *   node swarm.mjs --agents 50 --cycles 5            # backend from project.yml
 *   COMMUNICATION_BACKEND=sqlite node swarm.mjs      # same, on SQLite
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { summary } from './stats.mjs';

const USAGE = `Usage: node swarm.mjs [options]

A coordinator and N agent processes run the seed's swarm protocol on agent-state: a task per
agent per cycle through the agent's own queue, a shared lock around a counter, cycle
announcements on a channel, results to the coordinator's mailbox; then a check that nothing
was lost (exit 1 if anything was).

Options:
  --agents N        agent processes (default 50; 1 to 500)
  --cycles N        task cycles (default 5)
  --interval MS     pause between cycles (default 500)
  --timeout MS      longest wait for one cycle's results (default 20000; start-up: 3×, ≥ 1 s per agent)
  --heartbeat MS    agents' heartbeat interval (default 1000)
  --config FILE     project.yml to use (default: ./project.yml beside this script)
  --json            print the report as one JSON line instead of the text lines
  --keep            keep the run's keys in the store (default: removed at the end)
  -h, --help        print this and exit

The backend comes from project.yml; COMMUNICATION_BACKEND=file|sqlite|redis overrides it.`;

/** One line and the usage on stderr, exit 2 (a bad command line, not a crash). */
function usageError(message) {
  process.stderr.write(`swarm: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      agents: { type: 'string', default: '50' },
      cycles: { type: 'string', default: '5' },
      interval: { type: 'string', default: '500' },
      timeout: { type: 'string', default: '20000' },
      heartbeat: { type: 'string', default: '1000' },
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  usageError(error.message.split('\n')[0]);
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
/** A whole number in [min, max] from option `name`, or a usage error naming it. */
function count(name, min, max) {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < min || n > max) usageError(`--${name} must be a whole number from ${min} to ${max}, got "${opts[name]}"`);
  return n;
}
const agentCount = count('agents', 1, 500);
const cycles = count('cycles', 1, 10_000);
const intervalMs = count('interval', 0, 3_600_000);
const timeoutMs = count('timeout', 1, 3_600_000);
const heartbeatMs = count('heartbeat', 10, 3_600_000);
const say = opts.json ? () => undefined : (line) => process.stdout.write(`${line}\n`);

const here = dirname(fileURLToPath(import.meta.url));
// Loaded after the command line is checked, so --help and usage errors need no built core.
const { openState } = await import('@agent-state/core');
const state = await openState(opts.config ? { configFile: opts.config } : { cwd: here });
const { backend, namespace, settings } = state.config;
// An agent runs one task at a time: on Postgres one pooled connection (plus its LISTEN one) is
// enough, and fifty processes with the default pool of 10 would ask for more than a default
// server's 100 connections.
const agentSettings = backend === 'postgres' && settings?.postgres_pool_size === undefined ? { ...settings, postgres_pool_size: 1 } : settings;
const agentConfig = JSON.stringify({ backend, namespace, settings: agentSettings });
const session = `s-${Date.now()}`;
const coordinatorId = `coordinator-${session}`;
const inbox = state.mailbox(coordinatorId);
const ids = Array.from({ length: agentCount }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`);
say(`swarm ${session}: ${agentCount} agents × ${cycles} cycles on the ${backend} backend (${state.config.source})`);

/**
 * Runs `step`, again after a pause while the store answers BACKEND_UNAVAILABLE (a hundred agents
 * starting at once on two cores can keep a store busy past its timeouts), for up to a minute
 * after the first failure.
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
      if (error?.code !== 'BACKEND_UNAVAILABLE' || performance.now() > deadline) throw error;
      process.stderr.write(`coordinator: ${what}: ${error.message.split('\n')[0]}; retrying in ${pause} ms\n`);
      await sleep(pause);
    }
  }
}

/**
 * Takes messages from the coordinator's mailbox until `enough()` says so or `ms` pass, handing
 * each to `onMessage`; waits in `receive({ waitMs })`, so it wakes when mail lands, not on a timer.
 */
async function collect(ms, onMessage, enough) {
  const deadline = performance.now() + ms;
  while (!enough()) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const mail = await retrying('receive', () => inbox.receive({ waitMs: left }));
    for (const m of mail) onMessage(m.message);
    if (mail.length > 0) await retrying('ack', () => inbox.ack(mail));
  }
  return true;
}

// Start the agents; each says `ready` in the coordinator's mailbox once registered and subscribed.
// The IPC channel is only a lifeline: an agent whose coordinator is gone sees it close and stops.
const started = Date.now();
const children = ids.map((id) =>
  spawn(process.execPath, [...process.execArgv, join(here, 'agent.mjs'), id, agentConfig, String(heartbeatMs), coordinatorId], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
);
const exited = children.map((c) => new Promise((resolve) => c.once('exit', resolve)));
const ready = new Set();
// Start-up gets --timeout × 3, and at least a second per agent (100 processes starting on 2 cores).
const startupMs = Math.max(timeoutMs * 3, agentCount * 1_000);
const allReady = await collect(
  startupMs,
  (m) => {
    if (m?.type === 'ready') ready.add(m.agentId);
  },
  () => ready.size === agentCount,
);
if (!allReady) {
  for (const c of children) c.kill('SIGKILL');
  await state.close();
  throw new Error(`only ${ready.size}/${agentCount} agents started within ${startupMs} ms`);
}
const healthy = (await state.agents.list()).filter((a) => ids.includes(a.agentId) && a.status === 'healthy').length;
say(`all ${agentCount} agents registered in ${Date.now() - started} ms (${healthy} healthy in the registry)`);

const all = { assignment: [], lock: [], delivery: [], agentCpu: [], coordinatorCpu: [] };
const perCycle = [];
for (let cycle = 1; cycle <= cycles; cycle++) {
  await retrying('publish', () => state.publish('swarm', { type: 'cycle-start', session, cycle }));
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  for (const [i, id] of ids.entries()) {
    const task = { session, cycle, taskId: `task-${cycle}-${id}`, resource: i % 5, enqueuedAt: Date.now() };
    await retrying('enqueue', () => state.queue(`agent-${id}`).enqueue(task));
  }
  const results = new Map();
  await collect(
    timeoutMs,
    (m) => {
      if (m?.type === 'result' && m.cycle === cycle) results.set(m.agentId, m);
    },
    () => results.size >= agentCount,
  );
  const collectionMs = Date.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  const values = [...results.values()];
  // The first cycle's CPU includes each agent's start-up (and the coordinator's first calls).
  if (cycle > 1) {
    all.agentCpu.push(...values.map((r) => r.cpuMs).filter((ms) => typeof ms === 'number'));
    all.coordinatorCpu.push((user + system) / 1000);
  }
  const assignment = values.map((r) => r.assignmentMs);
  const lock = values.map((r) => r.lockMs);
  const delivery = values.flatMap((r) => r.deliveryMs);
  all.assignment.push(...assignment);
  all.lock.push(...lock);
  all.delivery.push(...delivery);
  const row = { cycle, results: values.length, expected: agentCount, collectionMs, assignment: summary(assignment), lock: summary(lock), delivery: summary(delivery) };
  perCycle.push(row);
  say(
    `cycle ${cycle}: results ${row.results}/${agentCount}, collection ${collectionMs} ms, ` +
      `assignment p50/p99 ${row.assignment.p50}/${row.assignment.p99} ms, lock p99 ${row.lock.p99} ms, delivery p99 ${row.delivery.p99} ms`,
  );
  if (cycle < cycles && intervalMs > 0) await sleep(intervalMs);
}

// Shut the agents down through their mailboxes and wait for them to exit.
await retrying('broadcast', () => state.mailbox(coordinatorId).send('broadcast', { command: 'shutdown' }));
const exitTimer = setTimeout(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}, timeoutMs);
await Promise.all(exited);
clearTimeout(exitTimer);

// The check: every task has exactly one result, every queue is empty, every lock use counted.
const problems = [];
for (let cycle = 1; cycle <= cycles; cycle++) {
  const entries = await state.readMany(ids.map((id) => `swarm/${session}/results/${cycle}/${id}`));
  entries.forEach((e, i) => {
    if (!e) problems.push(`cycle ${cycle}: no result from ${ids[i]}`);
    else if (e.value.taskId !== `task-${cycle}-${ids[i]}`) problems.push(`cycle ${cycle}: ${ids[i]} answered ${e.value.taskId}`);
  });
}
for (const id of ids) {
  const left = await state.queue(`agent-${id}`).size();
  if (left !== 0) problems.push(`${id}: ${left} task(s) left in its queue`);
}
let uses = 0;
for (let r = 0; r < 5; r++) uses += (await state.read(`swarm/${session}/resource-${r}/uses`))?.value ?? 0;
if (uses !== agentCount * cycles) problems.push(`lock-protected counter is ${uses}, expected ${agentCount * cycles}`);
const badExits = children.filter((c) => c.exitCode !== 0).length;
if (badExits > 0) problems.push(`${badExits} agent(s) did not exit cleanly`);

const totals = { assignment: summary(all.assignment), lock: summary(all.lock), delivery: summary(all.delivery) };
// Where the time goes: the CPU one cycle needs (every agent's task plus the coordinator's part),
// spread over the machine's cores, is the least any cycle can take; while it is more than a few
// milliseconds, an agent woken in the middle of the cycle waits for a core behind the others.
const cores = availableParallelism();
const agentCpuMs = summary(all.agentCpu).p50;
const coordinatorCpuMs = summary(all.coordinatorCpu).p50;
const cpu = {
  cores,
  agentCpuMsPerTask: agentCpuMs,
  coordinatorCpuMsPerCycle: coordinatorCpuMs,
  cycleCpuFloorMs: Math.round(((agentCpuMs * agentCount + coordinatorCpuMs) / cores) * 10) / 10,
};
const targets = {
  assignmentP99Under10ms: totals.assignment.p99 < 10,
  lockP99Under50ms: totals.lock.p99 < 50,
  deliveryP99Under5ms: totals.delivery.p99 < 5,
};
const report = { session, backend, agents: agentCount, cycles, perCycle, totals, targets, cpu, lost: problems.length, problems };
if (!opts.keep) {
  for await (const e of state.list({ prefix: `swarm/${session}/` })) await state.delete(e.key);
}
await state.close();

if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
say(
  `p99 over the run: assignment ${totals.assignment.p99} ms (target < 10: ${targets.assignmentP99Under10ms ? 'met' : 'not met'}), ` +
    `lock ${totals.lock.p99} ms (< 50: ${targets.lockP99Under50ms ? 'met' : 'not met'}), ` +
    `delivery ${totals.delivery.p99} ms (< 5: ${targets.deliveryP99Under5ms ? 'met' : 'not met'})`,
);
if (cycles > 1) {
  say(
    `CPU: ${cpu.agentCpuMsPerTask} ms per agent task (median), coordinator ${cpu.coordinatorCpuMsPerCycle} ms per cycle: ` +
      `a cycle needs ${cpu.cycleCpuFloorMs} ms of ${cores} cores at the least`,
  );
}
say(problems.length === 0 ? `nothing lost: ${agentCount * cycles} tasks, ${agentCount * cycles} results` : `LOST:\n  ${problems.join('\n  ')}`);
process.exitCode = problems.length === 0 ? 0 : 1;
