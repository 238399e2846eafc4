#!/usr/bin/env node
/**
 * The seed's 50-agent swarm protocol on agent-state. A coordinator starts N agent processes,
 * hands each one a task per cycle through its own queue, announces cycles on a channel, collects
 * one result per agent per cycle from the store, and ends by checking that nothing was lost.
 *
 *   node swarm.mjs --agents 50 --cycles 5            # backend from project.yml
 *   COMMUNICATION_BACKEND=sqlite node swarm.mjs      # same, on SQLite
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { openState } from '@agent-state/core';
import { summary } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    agents: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '5' },
    interval: { type: 'string', default: '500' },
    timeout: { type: 'string', default: '20000' },
    heartbeat: { type: 'string', default: '1000' },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const agentCount = Number(opts.agents);
const cycles = Number(opts.cycles);
const say = opts.json ? () => undefined : (line) => process.stdout.write(`${line}\n`);

const state = await openState(opts.config ? { configFile: opts.config } : { cwd: here });
const { backend, namespace, settings } = state.config;
const agentConfig = JSON.stringify({ backend, namespace, settings });
const session = `s-${Date.now()}`;
const ids = Array.from({ length: agentCount }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`);
say(`swarm ${session}: ${agentCount} agents × ${cycles} cycles on the ${backend} backend (${state.config.source})`);

// Start the agents and wait until every one has registered.
const started = Date.now();
const children = ids.map((id) =>
  spawn(process.execPath, [join(here, 'agent.mjs'), id, agentConfig, opts.heartbeat], { stdio: ['ignore', 'ignore', 'inherit'] }),
);
const running = (c) => c.exitCode === null && c.signalCode === null;
for (;;) {
  const healthy = (await state.agents.list()).filter((a) => ids.includes(a.agentId) && a.status === 'healthy').length;
  if (healthy === agentCount) break;
  if (Date.now() - started > Number(opts.timeout) * 3) throw new Error(`only ${healthy}/${agentCount} agents registered`);
  await sleep(50);
}
say(`all ${agentCount} agents registered in ${Date.now() - started} ms`);

const all = { assignment: [], lock: [], delivery: [] };
const perCycle = [];
for (let cycle = 1; cycle <= cycles; cycle++) {
  await state.publish('swarm', { type: 'cycle-start', session, cycle });
  const t0 = Date.now();
  for (const [i, id] of ids.entries()) {
    await state.queue(`agent-${id}`).enqueue({ session, cycle, taskId: `task-${cycle}-${id}`, resource: i % 5, enqueuedAt: Date.now() });
  }
  const prefix = `swarm/${session}/results/${cycle}/`;
  let results = [];
  while (Date.now() - t0 < Number(opts.timeout)) {
    results = [];
    for await (const e of state.list({ prefix })) results.push(e.value);
    if (results.length >= agentCount) break;
    await sleep(5);
  }
  const collectionMs = Date.now() - t0;
  const assignment = results.map((r) => r.assignmentMs);
  const lock = results.map((r) => r.lockMs);
  const delivery = results.flatMap((r) => r.deliveryMs);
  all.assignment.push(...assignment);
  all.lock.push(...lock);
  all.delivery.push(...delivery);
  const row = { cycle, results: results.length, expected: agentCount, collectionMs, assignment: summary(assignment), lock: summary(lock), delivery: summary(delivery) };
  perCycle.push(row);
  say(
    `cycle ${cycle}: results ${row.results}/${agentCount}, collection ${collectionMs} ms, ` +
      `assignment p50/p99 ${row.assignment.p50}/${row.assignment.p99} ms, lock p99 ${row.lock.p99} ms, delivery p99 ${row.delivery.p99} ms`,
  );
  if (cycle < cycles) await sleep(Number(opts.interval));
}

// Shut the agents down through their mailboxes and wait for them to exit.
await state.mailbox('coordinator').send('broadcast', { command: 'shutdown' });
const exitDeadline = Date.now() + Number(opts.timeout);
while (children.some(running) && Date.now() < exitDeadline) await sleep(20);
for (const c of children) if (running(c)) c.kill('SIGKILL');

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
const targets = {
  assignmentP99Under10ms: totals.assignment.p99 < 10,
  lockP99Under50ms: totals.lock.p99 < 50,
  deliveryP99Under5ms: totals.delivery.p99 < 5,
};
const report = { session, backend, agents: agentCount, cycles, perCycle, totals, targets, lost: problems.length, problems };
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
say(problems.length === 0 ? `nothing lost: ${agentCount * cycles} tasks, ${agentCount * cycles} results` : `LOST:\n  ${problems.join('\n  ')}`);
process.exitCode = problems.length === 0 ? 0 : 1;
