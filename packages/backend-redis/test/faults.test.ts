import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendUnavailableError, LockLostError, openState, type StateClient } from '@agent-state/core';
import { Redis } from 'ioredis';
import { afterEach, describe, it } from 'vitest';
import { closedPort, freshNamespace } from './helpers/redis.js';
import { RedisServer } from './helpers/redis-server.js';

const TIMEOUT_MS = 1_000;
/** "Within the connect timeout", with room for a loaded machine: a bound, not a timing test. */
const BOUND_MS = TIMEOUT_MS + 4_000;

async function openOn(url: string): Promise<StateClient> {
  return openState({
    config: { backend: 'redis', namespace: freshNamespace('fault'), settings: { redis_url: url, connect_timeout_ms: TIMEOUT_MS } },
    env: {},
  });
}

async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  assert.fail('expected the call to fail');
}

describe('faults', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('an unreachable server at init is a BackendUnavailableError within the connect timeout, naming host:port', async () => {
    const port = await closedPort();
    const { error, ms } = await failure(openOn(`redis://127.0.0.1:${port}`));
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
    assert.ok(ms < BOUND_MS);
  });

  it('a server that accepts connections but never answers is a BackendUnavailableError within the connect timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const port = (silent.address() as { port: number }).port;
    const { error, ms } = await failure(openOn(`redis://127.0.0.1:${port}`));
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
    assert.ok(ms < BOUND_MS);
  });

  it('a wrong password is a BackendUnavailableError carrying the server refusal, never showing the password', async () => {
    const server = await RedisServer.start(['--requirepass', 'right-one']);
    cleanups.push(() => server.dispose());
    const { error, ms } = await failure(openOn(`redis://:wrong-one@127.0.0.1:${server.port}`));
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.match(error.message, /WRONGPASS|invalid password/i);
    assert.ok(!error.message.includes('wrong-one'));
    assert.ok(ms < BOUND_MS);
  });

  it('a server that stops answering fails calls with BackendUnavailableError within the connect timeout, and the client stays usable', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.dispose());
    const state = await openOn(server.url);
    cleanups.push(() => state.close());
    await state.write('pause/a', 1);
    const admin = new Redis(server.port, '127.0.0.1');
    cleanups.push(async () => void admin.disconnect());
    await admin.call('CLIENT', 'PAUSE', String(TIMEOUT_MS * 2), 'ALL');
    const { error, ms } = await failure(state.read('pause/a'));
    assert.ok(error instanceof BackendUnavailableError, String(error));
    // The connection's watchdog failed it (no per-command timer): at least one timeout later.
    assert.match(error.message, /no reply within 1000 ms/);
    assert.ok(ms >= TIMEOUT_MS - 50 && ms < BOUND_MS, `failed after ${ms} ms`);
    await admin.call('CLIENT', 'UNPAUSE');
    assert.equal((await state.read('pause/a'))?.value, 1);
  });

  it('a server that lost its scripts (SCRIPT FLUSH) runs them again by EVAL: concurrent writes all land, each once', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.dispose());
    const state = await openOn(server.url);
    cleanups.push(() => state.close());
    await state.write('flush/a', 0);
    const admin = new Redis(server.port, '127.0.0.1');
    cleanups.push(async () => void admin.disconnect());
    await admin.call('SCRIPT', 'FLUSH');
    // 32 in flight: they go out together (auto-pipelined), all meet NOSCRIPT, all are re-run.
    const written = await Promise.all(Array.from({ length: 32 }, (_, i) => state.write(`flush/k${i}`, i)));
    assert.deepEqual(
      written.map((e) => e.value),
      Array.from({ length: 32 }, (_, i) => i),
    );
    assert.equal((await state.write('flush/a', 1)).version, 2, 'the re-run wrote once');
    assert.equal((await state.read('flush/k31'))?.version, 1);
  });

  it('calls fail with BackendUnavailableError while the server is down (health says so), the client recovers by itself, and a lease that lapsed meanwhile is LockLostError on extend', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.dispose());
    const state = await openOn(server.url);
    cleanups.push(() => state.close());

    await state.write('outage/kept', { n: 1 });
    // The fenced write must land inside the lease (2 s on a loaded machine); the outage below
    // still outlasts it: the test sleeps until the lease has ended.
    const lock = await state.lock('outage/lock', { ttlMs: 2_000 });
    await state.write('outage/fenced', 'before', { fence: lock });

    await server.stop({ save: true });
    for (const call of [() => state.read('outage/kept'), () => state.write('outage/x', 1), () => lock.extend(300)]) {
      const { error, ms } = await failure(call());
      assert.ok(error instanceof BackendUnavailableError, `BackendUnavailableError while down, got ${String(error)}`);
      assert.ok(error.message.includes(`127.0.0.1:${server.port}`));
      assert.ok(ms < BOUND_MS, 'failed within the connect timeout instead of queueing');
    }
    const health = await state.health();
    assert.equal(health.ok, false, 'health reports the outage instead of throwing');
    assert.match(String(health.details?.['error']), new RegExp(`127.0.0.1:${server.port}`));
    // The outage outlasts the lease.
    await sleep(Math.max(0, lock.expiresAt - Date.now()) + 50);
    await server.restart();

    // No reopen: the same client reconnects on its own.
    let entry = null;
    for (let attempt = 0; attempt < 100 && entry === null; attempt++) {
      entry = await state.read('outage/kept').catch(async (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError, String(error));
        await sleep(100);
        return null;
      });
    }
    assert.deepEqual(entry?.value, { n: 1 }, 'the client recovered and the data survived the restart');
    assert.equal((await state.health()).ok, true);
    await assert.rejects(lock.extend(1_000), LockLostError);
    await assert.rejects(state.write('outage/fenced', 'after', { fence: lock }), LockLostError);
    const next = await state.lock('outage/lock', { waitMs: 0 });
    assert.ok(next.token > lock.token, 'the fencing counter survived the outage');
    await next.release();
  });
  it('wakeup listeners are woken when their subscriber reconnects to a restarted server, and stay subscribed', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.dispose());
    const state = await openOn(`redis://127.0.0.1:${server.port}`);
    cleanups.push(() => state.close());
    let wakes = 0;
    let onWake: () => void = () => undefined;
    const stop = await state.backend.notify!.listen({ kind: 'queue', name: 'jobs' }, () => {
      wakes++;
      onWake();
    });
    const nextWake = (label: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no wakeup ${label} within 20 s`)), 20_000);
        onWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const afterRestart = nextWake('after the restart');
    await server.stop();
    await server.restart();
    await afterRestart; // a message published while the subscriber was away cannot be missed silently
    const afterEnqueue = nextWake('after an enqueue on the new server');
    for (let attempt = 0; ; attempt++) {
      try {
        await state.backend.queues!.enqueue('jobs', { json: '1', priority: 0 });
        break;
      } catch (error) {
        if (!(error instanceof BackendUnavailableError) || attempt > 50) throw error;
        await sleep(100);
      }
    }
    await afterEnqueue;
    assert.ok(wakes >= 2);
    await stop();
  }, 60_000);
});
