import assert from 'node:assert/strict';
import { ConflictError, sleep } from '@agent-state/core';
import { fixtureTest, processTest, type ContractTarget, type TestApi } from '../harness.js';
import { isWhole } from '../tasks.js';

/** Promise 6: all or nothing, serializable, retried on conflict, rollback leaves no trace. */
export function transactionsGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('transactions', () => {
    fixtureTest(t, target, 'a transaction applies all its writes and deletes together', async (f) => {
      const state = await f.open();
      await state.write('tx/gone', 'old');
      const result = await state.transaction(async (tx) => {
        tx.write('tx/a', 1);
        tx.write('tx/b', { two: 2 });
        tx.delete('tx/gone');
        return 'done';
      });
      assert.equal(result, 'done');
      const [a, b, gone] = await state.readMany(['tx/a', 'tx/b', 'tx/gone']);
      assert.equal(a?.value, 1);
      assert.deepEqual(b?.value, { two: 2 });
      assert.equal(gone, null);
    });

    fixtureTest(t, target, 'a transaction reads its own writes and sees one snapshot of each key', async (f) => {
      const state = await f.open();
      await state.write('tx/own', 'before');
      await state.transaction(async (tx) => {
        assert.equal((await tx.read('tx/own'))?.value, 'before');
        tx.write('tx/own', 'after');
        assert.equal((await tx.read('tx/own'))?.value, 'after');
        tx.delete('tx/own');
        assert.equal(await tx.read('tx/own'), null);
        tx.write('tx/own', 'final');
      });
      assert.equal((await state.read('tx/own'))?.value, 'final');
    });

    fixtureTest(t, target, 'an error thrown inside rolls back and is re-thrown unchanged', async (f) => {
      const state = await f.open();
      await state.write('tx/keep', 'original');
      const boom = new Error('boom');
      await assert.rejects(
        state.transaction(async (tx) => {
          tx.write('tx/keep', 'changed');
          tx.write('tx/new', 'x');
          throw boom;
        }),
        (e: unknown) => e === boom,
      );
      assert.equal((await state.read('tx/keep'))?.value, 'original');
      assert.equal(await state.read('tx/new'), null);
    });

    fixtureTest(t, target, 'rollback leaves no trace', async (f) => {
      const state = await f.open();
      const tx = await state.begin();
      await tx.read('tx/rb');
      tx.write('tx/rb', 1);
      await tx.rollback();
      assert.equal(await state.read('tx/rb'), null);
      const keys: string[] = [];
      for await (const e of state.list()) keys.push(e.key);
      assert.deepEqual(keys, []);
    });

    fixtureTest(t, target, 'a commit whose read went stale is a ConflictError and writes nothing', async (f) => {
      const a = await f.open();
      const b = await f.open();
      await a.write('tx/c1', 1);
      const tx = await a.begin();
      const seen = await tx.read('tx/c1');
      tx.write('tx/c1', (seen?.value as number) + 1);
      tx.write('tx/c2', 'side effect');
      await b.write('tx/c1', 100);
      await assert.rejects(tx.commit(), ConflictError);
      assert.equal((await a.read('tx/c1'))?.value, 100);
      assert.equal(await a.read('tx/c2'), null);
    });

    fixtureTest(t, target, 'a read of an absent key conflicts when another client creates it', async (f) => {
      const a = await f.open();
      const b = await f.open();
      const tx = await a.begin();
      assert.equal(await tx.read('tx/phantom'), null);
      tx.write('tx/other', 1);
      await b.write('tx/phantom', 'created');
      await assert.rejects(tx.commit(), ConflictError);
      assert.equal(await a.read('tx/other'), null);
    });

    fixtureTest(t, target, 'a conflicting transaction is re-run, and gives up with ConflictError after maxRetries', async (f) => {
      const a = await f.open();
      const b = await f.open();
      let runs = 0;
      await a.transaction(async (tx) => {
        runs++;
        const e = await tx.read('tx/retry');
        if (runs === 1) await b.write('tx/retry', 'interloper');
        tx.write('tx/retry', `${String(e?.value ?? 'none')}+a`);
      });
      assert.equal(runs, 2);
      assert.equal((await a.read('tx/retry'))?.value, 'interloper+a');
      let attempts = 0;
      await assert.rejects(
        a.transaction(
          async (tx) => {
            attempts++;
            await tx.read('tx/retry');
            await b.write('tx/retry', `again ${attempts}`);
            tx.write('tx/retry', 'never');
          },
          { maxRetries: 2 },
        ),
        ConflictError,
      );
      assert.equal(attempts, 3);
      assert.notEqual((await a.read('tx/retry'))?.value, 'never');
    });

    fixtureTest(t, target, 'concurrent transfers in one process keep the sum', async (f) => {
      const clients = [await f.open(), await f.open()];
      const accounts = ['tx/acct/a', 'tx/acct/b', 'tx/acct/c'];
      for (const k of accounts) await clients[0]!.write(k, 100);
      const n = Math.max(6, Math.round(20 * scale));
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          clients[i % 2]!.transaction(
            async (tx) => {
              const from = accounts[i % 3]!;
              const to = accounts[(i + 1) % 3]!;
              const [x, y] = await tx.readMany([from, to]);
              tx.write(from, (x!.value as number) - 7);
              tx.write(to, (y!.value as number) + 7);
            },
            { maxRetries: 1_000 },
          ),
        ),
      );
      const total = (await clients[1]!.readMany(accounts)).reduce((s, e) => s + (e!.value as number), 0);
      assert.equal(total, 300);
    });

    processTest(
      t,
      target,
      'concurrent transfers from several processes keep the sum (serializable)',
      async (f) => {
        const state = await f.open();
        const accounts = ['tx/bank/0', 'tx/bank/1', 'tx/bank/2', 'tx/bank/3'];
        for (const k of accounts) await state.write(k, 1_000);
        const n = Math.max(10, Math.round(40 * scale));
        await Promise.all([0, 1, 2].map(() => f.run('transfer', { accounts, n })));
        const balances = (await state.readMany(accounts)).map((e) => e!.value as number);
        assert.equal(balances.reduce((s, b) => s + b, 0), 4_000, `balances ${balances.join(', ')} keep the sum`);
        for (const b of balances) assert.ok(b >= 0, 'no balance went negative');
      },
      { timeoutMs: 120_000 },
    );

    processTest(
      t,
      target,
      'a reader never sees half of a commit made by another process',
      async (f) => {
        const keys = Array.from({ length: 6 }, (_, i) => `tx/live/${i}`);
        const worker = f.spawn('transactionLoop', { keys, size: 200, pauseMs: 2 });
        await worker.waitFor('ready');
        const state = await f.open();
        let reads = 0;
        const until = Date.now() + 1_500;
        while (Date.now() < until) {
          // A read-only transaction is validated at commit, so what it returns is one snapshot.
          const seen = await state.transaction(async (tx) => (await tx.readMany(keys)).map((e) => (e?.value as { i: number } | undefined)?.i), {
            maxRetries: 1_000,
          });
          assert.equal(new Set(seen).size, 1, `read ${reads}: all keys from one commit, saw ${seen.join(', ')}`);
          reads++;
        }
        await worker.kill();
        assert.ok(reads > 0, 'at least one consistent read-only transaction committed');
      },
      { timeoutMs: 60_000 },
    );

    processTest(
      t,
      target,
      'a process killed with SIGKILL during commit leaves all of its writes or none',
      async (f) => {
        const keys = Array.from({ length: 6 }, (_, i) => `tx/crash/${i}`);
        for (let round = 0; round < 4; round++) {
          const worker = f.spawn('transactionLoop', { keys, size: 4_000 });
          await worker.waitFor('ready');
          await sleep(10 + Math.random() * 80);
          await worker.kill();
          const state = await f.open();
          const entries = await state.readMany(keys);
          for (const e of entries) assert.ok(e && isWhole(e.value), `round ${round}: every key is whole`);
          const seen = new Set(entries.map((e) => (e!.value as { i: number }).i));
          assert.equal(seen.size, 1, `round ${round}: all keys come from one transaction, saw ${[...seen].join(', ')}`);
          await state.transaction((tx) => {
            for (const key of keys) tx.write(key, entries[0]!.value);
          });
        }
      },
      { timeoutMs: 90_000, crash: true },
    );
  });
}
