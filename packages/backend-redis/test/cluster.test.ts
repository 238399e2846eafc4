import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, LockLostError, openState, type StateClient } from '@agent-state/core';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createRedisBackend } from '../src/index.js';
import { freshNamespace } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';

const run = promisify(execFile);
const REDIS_CLI = process.env['REDIS_CLI_BIN'] || 'redis-cli';

/** A 3-master cluster on loopback ports, started and removed by this file. */
describe('redis cluster', () => {
  const nodes: RedisServer[] = [];
  let cluster: Cluster;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      nodes.push(await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']));
    }
    await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const node of nodes) await waitForClusterOk(node.port);
    cluster = new Cluster(
      nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 0 } },
    );
    cluster.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve());
      cluster.once('end', () => reject(new Error('cluster client ended')));
    });
  }, 30_000);

  afterAll(async () => {
    cluster?.disconnect();
    for (const node of nodes) await node.dispose();
  }, 30_000);

  /** The port of the master serving namespace `ns`. */
  function shardOf(ns: string): string {
    const slot = cluster.slots[keySlot(`agent-state:{${ns}}:idx`)];
    return slot?.[0] ?? 'none';
  }

  async function keySlotsOf(ns: string): Promise<Set<number>> {
    const slots = new Set<number>();
    for (const node of cluster.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `agent-state:{${ns}}:*`, 'COUNT', 1000);
        for (const key of keys) slots.add(Number(await node.call('CLUSTER', 'KEYSLOT', key)));
        cursor = next;
      } while (cursor !== '0');
    }
    return slots;
  }

  async function exercise(state: StateClient): Promise<void> {
    await state.write('tasks/1', { status: 'new' });
    await state.write('tasks/2', { status: 'new' }, { ttlMs: 60_000 });
    await assert.rejects(state.write('tasks/1', 'x', { ifVersion: 'absent' }), ConflictError);
    assert.deepEqual((await state.readMany(['tasks/1', 'tasks/2', 'tasks/3'])).map((e) => e?.version ?? null), [1, 1, null]);
    assert.equal(await state.increment('counters/n', 5), 5);
    const lock = await state.lock('deploy', { ttlMs: 5_000 });
    let released!: () => void;
    const releaseWake = new Promise<void>((resolve) => (released = resolve));
    const stopLock = await state.backend.notify!.listen({ kind: 'lock', name: 'deploy' }, () => released());
    await state.write('tasks/1', { status: 'locked' }, { fence: lock });
    await state.transaction(async (tx) => {
      const a = await tx.read('tasks/1');
      tx.write('tasks/3', { copy: a?.value ?? null });
      tx.delete('tasks/2');
    });
    const keys: string[] = [];
    for await (const e of state.list({ prefix: 'tasks/' })) keys.push(e.key);
    assert.deepEqual(keys, ['tasks/1', 'tasks/3']);
    await lock.release();
    await Promise.race([releaseWake, sleep(10_000).then(() => assert.fail('no lock wakeup on the cluster within 10 s of the release'))]);
    await stopLock();
    await assert.rejects(state.write('tasks/1', 'late', { fence: lock }), LockLostError);

    // Native families: every script's keys share the namespace's slot; wakeups through a
    // subscriber duplicated from the cluster client.
    const { queues, logs, notify } = state.backend;
    let woke!: () => void;
    const wake = new Promise<void>((resolve) => (woke = resolve));
    const stop = await notify!.listen({ kind: 'queue', name: 'jobs' }, () => woke());
    await queues!.enqueue('jobs', { json: '"low"', priority: 0 });
    await queues!.enqueue('jobs', { json: '"high"', priority: 5 });
    await Promise.race([wake, sleep(10_000).then(() => assert.fail('no wakeup on the cluster within 10 s'))]);
    await stop();
    const job = (await queues!.claim('jobs', { leaseMs: 5_000, owner: 'cluster' }))!;
    assert.equal(job.json, '"high"');
    assert.equal(await queues!.settle('jobs', job.id, job.leaseId, { kind: 'ack' }), true);
    assert.deepEqual(await queues!.counts('jobs'), { waiting: 1, inFlight: 0, delayed: 0, dead: 0 });
    assert.deepEqual((await logs!.append('log/cl', ['1', '2'])).map((a) => a.seq), [1, 2]);
    assert.equal(await logs!.trim('log/cl', { before: 2 }), 1);
    assert.deepEqual((await logs!.read('log/cl', { after: 0, limit: 10 })).map((r) => r.seq), [2]);
    assert.equal(await logs!.lastSeq('log/cl'), 2);
  }

  it('every operation (native queues, logs and wakeups too) works on a 3-master cluster, each namespace in one slot, namespaces spread over shards', async () => {
    // Two namespaces served by different masters.
    const first = freshNamespace('cl');
    let second = freshNamespace('cl');
    for (let i = 0; i < 100 && shardOf(second) === shardOf(first); i++) second = freshNamespace('cl');
    assert.notEqual(shardOf(first), shardOf(second));

    for (const ns of [first, second]) {
      const state = await openState({ backend: createRedisBackend({ client: cluster }), config: { backend: 'redis', namespace: ns }, env: {} });
      try {
        await exercise(state);
        const health = await state.health();
        assert.equal(health.details?.['mode'], 'cluster');
      } finally {
        await state.close();
      }
      const slots = await keySlotsOf(ns);
      assert.equal(slots.size, 1, `every key of ${ns} hashes to one slot (the {namespace} tag)`);
    }
    assert.equal(cluster.status, 'ready', 'closing the backend leaves a client it did not open connected');

    for (const ns of [first, second]) {
      for (const node of cluster.nodes('master')) {
        const [, keys] = await node.scan('0', 'MATCH', `agent-state:{${ns}}:*`, 'COUNT', 10_000);
        if (keys.length > 0) await node.unlink(...keys);
      }
    }
  });
});

/** CRC16 slot of a key with its hash tag, as Redis Cluster computes it. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

async function waitForClusterOk(port: number): Promise<void> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const info = String(await client.call('CLUSTER', 'INFO'));
      if (info.includes('cluster_state:ok')) return;
      await sleep(50);
    }
    throw new Error(`cluster node ${port} never reached cluster_state:ok`);
  } finally {
    client.disconnect();
  }
}
