import assert from 'node:assert/strict';
import { InvalidConfigError, loadConfig, openState } from '@agent-state/core';
import { Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';
import { createBackend, createRedisBackend } from '../src/index.js';
import { encodeEntry } from '../src/codec.js';
import { dropNamespace, freshNamespace, namespaceKeys, REDIS_URL } from './helpers/redis.js';

describe('key layout and settings', () => {
  const admin = new Redis(REDIS_URL);
  const dropped: [string, string][] = [];
  afterAll(async () => {
    for (const [ns, prefix] of dropped) await dropNamespace(ns, prefix);
    for (const [ns, prefix] of dropped) assert.deepEqual(await namespaceKeys(admin, ns, prefix), [], 'no keys left behind');
    admin.disconnect();
  });

  function open(namespace: string, settings: Record<string, unknown> = {}) {
    return openState({ config: { backend: 'redis', namespace, settings: { redis_url: REDIS_URL, ...settings } }, env: {} });
  }

  it('every key is readable under <prefix>:{<namespace>}: (entry, index, lease, fencing counter, holder record, meta)', async () => {
    const ns = freshNamespace('layout');
    dropped.push([ns, 'agent-state']);
    await using state = await open(ns);
    await state.write('tasks/42', { status: 'assigned' });
    const lock = await state.lock('deploy');
    assert.deepEqual((await namespaceKeys(admin, ns)).sort(), [
      `agent-state:{${ns}}:f:deploy`,
      `agent-state:{${ns}}:h:deploy`,
      `agent-state:{${ns}}:idx`,
      `agent-state:{${ns}}:k:tasks/42`,
      `agent-state:{${ns}}:l:deploy`,
      `agent-state:{${ns}}:meta`,
    ]);
    const entry = (await state.read('tasks/42'))!;
    assert.equal(await admin.get(`agent-state:{${ns}}:k:tasks/42`), encodeEntry(1, entry.updatedAt, undefined, '{"status":"assigned"}'));
    assert.equal(await admin.get(`agent-state:{${ns}}:l:deploy`), `${lock.token} ${lock.owner}`);
    assert.equal(await admin.get(`agent-state:{${ns}}:h:deploy`), `${lock.token} ${lock.owner} ${lock.expiresAt}`);
    await lock.release();
    assert.equal(await admin.exists(`agent-state:{${ns}}:h:deploy`), 0, 'a released lease leaves no holder record');
    assert.equal(await admin.get(`agent-state:{${ns}}:f:deploy`), String(lock.token), 'the fencing counter outlives the lease');
  });

  it('native queues and logs live under q:<queue>:… and g:<log>, with their name indexes, all in the namespace', async () => {
    const ns = freshNamespace('layout');
    dropped.push([ns, 'agent-state']);
    await using state = await open(ns);
    const { queues, logs } = state.backend;
    await queues!.enqueue('tasks', { json: '1', priority: 0 });
    await queues!.enqueue('tasks', { json: '2', priority: 0, delayMs: 60_000 });
    const job = (await queues!.claim('tasks', { leaseMs: 60_000, owner: 't', maxAttempts: 1 }))!;
    await queues!.settle('tasks', job.id, job.leaseId, { kind: 'nack', delayMs: 0 });
    await queues!.claim('tasks', { leaseMs: 60_000, owner: 't', maxAttempts: 1 });
    await logs!.append('ch/updates', ['"hi"'], { retention: { maxAgeMs: 60_000 } });
    const base = `agent-state:{${ns}}:`;
    assert.deepEqual((await namespaceKeys(admin, ns)).sort(), [
      `${base}g:ch/updates`,
      `${base}gnames`,
      `${base}gret`,
      `${base}meta`,
      `${base}q:tasks:all`,
      `${base}q:tasks:dead`,
      `${base}q:tasks:delayed`,
      `${base}q:tasks:jobs`,
      `${base}q:tasks:seq`,
      `${base}qnames`,
    ]);
    assert.equal(await admin.hget(`${base}q:tasks:jobs`, job.id), `x:1:0:${job.enqueuedAt}:::1`, 'a dead letter: state x, one attempt');
    const [record] = await logs!.read('ch/updates', { after: 0, limit: 1 });
    assert.deepEqual(await admin.xrange(`${base}g:ch/updates`, '-', '+'), [['0-1', ['at', String(record!.at), 'j', '"hi"']]]);
  });

  it('an entry with ttlMs expires in Redis exactly when its expiresAt says', async () => {
    const ns = freshNamespace('layout');
    dropped.push([ns, 'agent-state']);
    await using state = await open(ns);
    const entry = await state.write('short', 1, { ttlMs: 60_000 });
    const key = `agent-state:{${ns}}:k:short`;
    assert.equal(await admin.get(key), encodeEntry(1, entry.updatedAt, entry.expiresAt, '1'));
    // PEXPIREAT expiresAt-1: Redis drops a key when now > when, the contract when expiresAt <= now.
    assert.equal(await admin.pexpiretime(key), entry.expiresAt! - 1);
    await state.write('short', 2);
    assert.equal(await admin.pttl(key), -1, 'a write without ttlMs makes the key persistent again');
  });

  it('two namespaces and two key prefixes on one server never see each other', async () => {
    const ns = freshNamespace('layout');
    dropped.push([ns, 'agent-state'], [ns, 'project-b'], [`${ns}-other`, 'agent-state']);
    await using a = await open(ns);
    await using b = await open(ns, { redis_key_prefix: 'project-b' });
    await using c = await open(`${ns}-other`);
    await a.write('shared', 'a');
    assert.equal(await b.read('shared'), null);
    assert.equal(await c.read('shared'), null);
    await b.write('shared', 'b');
    assert.equal((await a.read('shared'))?.value, 'a');
    assert.deepEqual((await namespaceKeys(admin, ns, 'project-b')).sort(), [`project-b:{${ns}}:idx`, `project-b:{${ns}}:k:shared`, `project-b:{${ns}}:meta`]);
  });

  it('redis_key_prefix with a brace is an InvalidConfigError naming the setting', () => {
    const config = loadConfig({ config: { backend: 'redis', settings: { redis_key_prefix: 'a{b' } }, env: {} });
    assert.throws(() => createBackend(config), (e: unknown) => e instanceof InvalidConfigError && e.message.includes('communication.settings.redis_key_prefix'));
  });

  it('settings map to the connection (host, port, db) and the target never shows the password', async () => {
    const url = new URL(REDIS_URL);
    const ns = freshNamespace('layout');
    dropped.push([ns, 'agent-state']);
    const state = await openState({
      config: {
        backend: 'redis',
        namespace: ns,
        settings: { redis_host: url.hostname, redis_port: Number(url.port || 6379), redis_db: 0, ...(url.password ? { redis_password: decodeURIComponent(url.password) } : {}) },
      },
      env: {},
    });
    try {
      const health = await state.health();
      assert.equal(health.ok, true);
      assert.equal(health.target, `redis://${url.hostname}:${url.port || 6379}/0`);
    } finally {
      await state.close();
    }
    const withPassword = createRedisBackend({ url: 'redis://user:s3cret@127.0.0.1:1/2' });
    await assert.rejects(withPassword.init({ namespace: ns, connectTimeoutMs: 1_000 }), (e: unknown) => {
      assert.ok(e instanceof Error && e.message.includes('redis://127.0.0.1:1/2') && !e.message.includes('s3cret'), String(e));
      return true;
    });
    await withPassword.close();
  });

  it("a client handed in with ioredis' own keyPrefix keeps working, list included", async () => {
    const ns = freshNamespace('layout');
    dropped.push([ns, 'proj:agent-state']);
    const client = new Redis(REDIS_URL, { keyPrefix: 'proj:' });
    try {
      const state = await openState({ backend: createRedisBackend({ client }), config: { backend: 'redis', namespace: ns }, env: {} });
      await state.write('b', 2);
      await state.write('a', 1, { ttlMs: 60_000 });
      assert.deepEqual((await state.readMany(['a', 'b'])).map((e) => e?.value), [1, 2]);
      const keys: string[] = [];
      for await (const e of state.list()) keys.push(e.key);
      assert.deepEqual(keys, ['a', 'b']);
      await state.close();
      assert.equal((await namespaceKeys(admin, ns, 'proj:agent-state')).length, 4, 'two entries, the index and the meta hash');
    } finally {
      client.disconnect();
    }
  });

  it('a client handed in is used as is and left open by close()', async () => {
    const ns = freshNamespace('layout');
    dropped.push([ns, 'agent-state']);
    const client = new Redis(REDIS_URL);
    try {
      const state = await openState({ backend: createRedisBackend({ client }), config: { backend: 'redis', namespace: ns }, env: {} });
      await state.write('mine', 1);
      await state.close();
      assert.equal(client.status, 'ready');
      assert.match((await client.get(`agent-state:{${ns}}:k:mine`)) ?? '', /^1:\d+::356a192b7913b04c:1$/, 'format 3: the digest of "1" before the value');
    } finally {
      client.disconnect();
    }
  });
});
