import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sleep } from '@agent-state/core';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

/** Agents: status from the last heartbeat (healthy < 2× interval, unhealthy after, missing after TTL). */
export function agentsGroup(t: TestApi, target: ContractTarget): void {
  t.describe('agents', () => {
    fixtureTest(t, target, 'an agent is healthy after a heartbeat, unhealthy after 2× its interval, missing after the registry TTL', async (f) => {
      const state = await f.open();
      // Windows a loaded machine cannot miss: 1.5 s to see it healthy, 2.5 s between unhealthy
      // (2× interval) and missing (ttl); each sleep is measured from the heartbeat it is about.
      const intervalMs = 750;
      const ttlMs = 4_500;
      const registeredAt = Date.now();
      await state.agents.register('agent-1', { role: 'executor' }, { heartbeatIntervalMs: intervalMs, registryTtlMs: ttlMs });
      let [agent] = await state.agents.list();
      assert.equal(agent?.agentId, 'agent-1');
      assert.deepEqual(agent?.info, { role: 'executor' });
      assert.equal(agent?.status, 'healthy');
      await sleep(Math.max(0, registeredAt + 2 * intervalMs - Date.now()) + 300);
      [agent] = await state.agents.list();
      assert.equal(agent?.status, 'unhealthy');
      const beatAt = Date.now();
      await state.agents.heartbeat('agent-1', { load: 0.5 });
      [agent] = await state.agents.list();
      assert.equal(agent?.status, 'healthy');
      assert.deepEqual(agent?.metrics, { load: 0.5 });
      await sleep(Math.max(0, beatAt + ttlMs - Date.now()) + 300);
      [agent] = await state.agents.list();
      assert.equal(agent?.status, 'missing');
    });

    fixtureTest(t, target, 'a watched local pid that is gone makes the agent missing at once', async (f) => {
      const state = await f.open();
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      await state.agents.register('gone', {}, { pid: dead });
      await state.agents.register('alive', {}, { pid: process.pid });
      const status = Object.fromEntries((await state.agents.list()).map((a) => [a.agentId, a.status]));
      assert.deepEqual(status, { alive: 'healthy', gone: 'missing' });
      assert.equal(await state.agents.unregister('gone'), true);
      assert.deepEqual((await state.agents.list()).map((a) => a.agentId), ['alive']);
    });

    fixtureTest(t, target, 'registry entries do not show up in a plain list of user keys', async (f) => {
      const state = await f.open();
      await state.agents.register('a1', {});
      await state.write('user/key', 1);
      const keys: string[] = [];
      for await (const e of state.list()) keys.push(e.key);
      assert.deepEqual(keys, ['user/key']);
    });
  });
}
