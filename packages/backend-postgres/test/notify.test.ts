import { afterAll, describe, expect, it } from 'vitest';
import { NativeFixture, until } from './native-helpers.js';
import { dropRunSchema, requireServer, sql } from './pg-helpers.js';
import { channelFor } from '../src/index.js';
import { RUN_SCHEMA } from './pg-helpers.js';

const up = await requireServer();

describe.skipIf(!up)('LISTEN/NOTIFY wakeups', () => {
  afterAll(() => dropRunSchema());

  it("another process's enqueue wakes a queue listener here", async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      let wakes = 0;
      const stop = await b.notify.listen({ kind: 'queue', name: 'jobs' }, () => wakes++);
      const worker = f.spawn('enqueue', { queue: 'jobs' });
      await worker.waitFor('ready');
      worker.go();
      await worker.waitFor('result');
      await until(() => wakes > 0, 'the wakeup');
      await stop();
    } finally {
      await f.dispose();
    }
  }, 60_000);

  it('appends and entry writes wake their topics; a rolled-back change wakes nobody', async () => {
    const f = new NativeFixture();
    try {
      const listener = await f.backend();
      const writer = await f.backend();
      let logWakes = 0;
      let keyWakes = 0;
      await listener.notify.listen({ kind: 'log', name: 'ch/x' }, () => logWakes++);
      const unwatch = listener.watch('k1', () => keyWakes++);
      await until(() => listener.notify.connected, 'the LISTEN connection');
      await writer.logs.append('ch/x', ['1']);
      await writer.write('k1', 1, { json: '1' });
      await until(() => logWakes === 1 && keyWakes === 1, 'both wakeups');
      await expect(writer.logs.append('ch/x', ['bad\u0000'])).rejects.toThrow();
      // A later change of the same topic arrives after the failed one would have: only it counts.
      await writer.logs.append('ch/x', ['2']);
      await until(() => logWakes === 2, 'the second wakeup');
      expect(logWakes).toBe(2);
      unwatch();
    } finally {
      await f.dispose();
    }
  });

  it('the LISTEN connection killed on the server: it reconnects, wakes every listener once, and hears later NOTIFYs', async () => {
    const f = new NativeFixture();
    try {
      const listener = await f.backend();
      const writer = await f.backend();
      let wakes = 0;
      await listener.notify.listen({ kind: 'queue', name: 'jobs' }, () => wakes++);
      const channel = channelFor(RUN_SCHEMA, f.namespace);
      const killed = await sql<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE query = $1`,
        [`LISTEN "${channel}"`],
      );
      expect(killed[0]!.n).toBe(1);
      await until(() => wakes >= 1 && listener.notify.connected, 'the reconnect wakeup');
      const before = wakes;
      await writer.queues.enqueue('jobs', { json: '1', priority: 0 });
      await until(() => wakes > before, 'a wakeup after the reconnect');
    } finally {
      await f.dispose();
    }
  });

  it('every connection of the client killed on the server: operations work again and waiters are woken, within a deadline', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      let wakes = 0;
      await b.notify.listen({ kind: 'queue', name: 'jobs' }, () => wakes++);
      await b.write('k', 1, { json: '1' });
      const killed = await sql<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`, [
        `agent-state ${f.namespace}`.slice(0, 63),
      ]);
      expect(killed[0]!.n).toBeGreaterThanOrEqual(2);
      // The first call may meet a connection the pool has not seen die yet: BACKEND_UNAVAILABLE, then recovery.
      await until(async () => {
        try {
          return (await b.read('k'))?.value === 1;
        } catch (error) {
          expect((error as { code?: string }).code).toBe('BACKEND_UNAVAILABLE');
          return false;
        }
      }, 'a read after the outage');
      await until(() => wakes >= 1 && b.notify.connected, 'the reconnect wakeup');
      const before = wakes;
      await b.queues.enqueue('jobs', { json: '1', priority: 0 });
      await until(() => wakes > before, 'a wakeup after the outage');
    } finally {
      await f.dispose();
    }
  });

  it('a delayed job wakes its queue listener when it comes due', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      // The listen must come before the job is due: 2 s of room, not 300 ms.
      await b.queues.enqueue('later', { json: '1', priority: 0, delayMs: 2_000 });
      expect(await b.queues.claim('later', { leaseMs: 1000, owner: 'o' })).toBeNull();
      let wakes = 0;
      await b.notify.listen({ kind: 'queue', name: 'later' }, () => wakes++);
      await until(() => wakes > 0, 'the due wakeup');
      expect(await b.queues.claim('later', { leaseMs: 1000, owner: 'o' })).not.toBeNull();
    } finally {
      await f.dispose();
    }
  });

  it('a due job nobody claims is announced once, not again every few milliseconds until claimed', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      await b.queues.enqueue('due', { json: '1', priority: 0, delayMs: 300 });
      let wakes = 0;
      const stop = await b.notify.listen({ kind: 'queue', name: 'due' }, () => wakes++);
      await until(() => wakes > 0, 'the due wakeup');
      // The job stays due (nobody claims it). A listener that re-armed for it woke (and queried)
      // every 5 ms.
      await new Promise((r) => setTimeout(r, 500));
      expect(wakes).toBeLessThanOrEqual(3);
      await stop();
    } finally {
      await f.dispose();
    }
  });

  describe('pool size 1: the pool\'s one connection carries the LISTEN', () => {
    const connectionsOf = async (namespace: string) =>
      (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [`agent-state ${namespace}`.slice(0, 63)]))[0]!.n;

    it('a listening, working client holds one connection, and NOTIFYs from another process wake it', async () => {
      const f = new NativeFixture();
      try {
        const b = await f.backend({ poolSize: 1 });
        expect(b.notify.shared).toBe(true);
        let wakes = 0;
        const stop = await b.notify.listen({ kind: 'queue', name: 'jobs' }, () => wakes++);
        const unwatch = b.watch('k', () => undefined);
        // Work in flight with the listen: transactions, statements and the listen share the one connection.
        await Promise.all([b.write('k', 1, { json: '1' }), b.queues.enqueue('jobs', { json: '1', priority: 0 }), b.read('k')]);
        expect(b.notify.connected).toBe(true);
        expect(await connectionsOf(f.namespace)).toBe(1);
        await until(() => wakes > 0, 'the wakeup from its own enqueue');
        const before = wakes;
        const worker = f.spawn('enqueue', { queue: 'jobs' });
        await worker.waitFor('ready');
        worker.go();
        await worker.waitFor('result');
        await until(() => wakes > before, "the wakeup from another process's enqueue");
        unwatch();
        await stop();
      } finally {
        await f.dispose();
      }
    }, 60_000);

    it('its connection killed on the server: it reconnects on its own, wakes the waiter once, and later NOTIFYs still wake it', async () => {
      const f = new NativeFixture();
      try {
        const b = await f.backend({ poolSize: 1 });
        let wakes = 0;
        await b.notify.listen({ kind: 'queue', name: 'jobs' }, () => wakes++);
        expect(await connectionsOf(f.namespace)).toBe(1);
        const killed = await sql<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`, [
          `agent-state ${f.namespace}`.slice(0, 63),
        ]);
        expect(killed[0]!.n).toBe(1);
        // Nobody runs a statement here: the notifier itself notices the loss and opens the new connection.
        await until(() => wakes >= 1 && b.notify.connected, 'the reconnect wakeup');
        expect(await connectionsOf(f.namespace)).toBe(1);
        const before = wakes;
        const writer = await f.backend();
        await writer.queues.enqueue('jobs', { json: '1', priority: 0 });
        await until(() => wakes > before, 'a wakeup after the reconnect');
      } finally {
        await f.dispose();
      }
    });
  });
});
