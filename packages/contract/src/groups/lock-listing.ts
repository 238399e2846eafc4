import assert from 'node:assert/strict';
import type { LockLease } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

/**
 * Issue 17: `backend.listLocks()` lists every live lease of the namespace, whoever holds it
 * (another client, another process), in resource order, with owner, token and expiry as the
 * holder sees them; released and expired leases are gone from it. Optional on the backend
 * surface: a backend without it says so (the dashboard then shows the server's own leases).
 * And a lease taken over another owner's expired lease is audited (`lock.takeover`).
 */
export function lockListingGroup(t: TestApi, target: ContractTarget): void {
  t.describe('lock listing', () => {
    fixtureTest(t, target, 'listLocks lists every live lease of every holder, sorted, and drops released and expired ones', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const backend = backendOf(b);
      const list = backend.listLocks?.bind(backend);
      if (!list) {
        assert.equal(typeof backend.listLocks, 'undefined', 'listLocks is a function or absent');
        return;
      }
      assert.deepEqual(await list(), [], 'a fresh store holds no lease');
      const one = await a.lock('ll/x', { ttlMs: 10_000 });
      const many = await b.lockMany(['ll/b', 'll/a/deep'], { ttlMs: 10_000 });
      const short = await a.lock('ll/short', { ttlMs: 150 });
      const seen = await list();
      const expected = [...many, one, short].map((l) => l.lease).sort((x, y) => (x.resource < y.resource ? -1 : 1));
      assert.deepEqual(
        seen.map((l) => l.resource),
        expected.map((l) => l.resource),
        'every holder, in resource order',
      );
      for (const [i, lease] of seen.entries()) {
        const want: LockLease = expected[i]!;
        assert.equal(lease.owner, want.owner, `${lease.resource}: owner`);
        assert.equal(lease.token, want.token, `${lease.resource}: token`);
        // Backends that derive the end from a remaining ttl (Redis) may differ by clock rounding.
        assert.ok(Math.abs(lease.expiresAt - want.expiresAt) < 1_000, `${lease.resource}: expiresAt ${lease.expiresAt} vs ${want.expiresAt}`);
      }
      // The listing holds nothing: the holders still release and extend as before.
      await one.extend(20_000);
      assert.ok((await list()).find((l) => l.resource === 'll/x')!.expiresAt > one.expiresAt - 1_000);
      await one.release();
      await new Promise((r) => setTimeout(r, Math.max(0, short.expiresAt - Date.now()) + 100));
      assert.deepEqual(
        (await list()).map((l) => l.resource),
        ['ll/a/deep', 'll/b'],
        'released and expired leases are not listed',
      );
      for (const l of many) await l.release();
      assert.deepEqual(await list(), []);
    });

    fixtureTest(t, target, 'a lease taken over an expired lease of another owner is written to the audit log with who, when, before and after', async (f) => {
      const [a, b] = [await f.open(), await f.open()];
      const first = await a.lock('ll/takeover', { ttlMs: 100 });
      await new Promise((r) => setTimeout(r, Math.max(0, first.expiresAt - Date.now()) + 50));
      const before = Date.now();
      const second = await b.lock('ll/takeover', { waitMs: 0 });
      const plain = await b.lock('ll/plain', { waitMs: 0 });
      await plain.release();
      const again = await a.lock('ll/plain', { waitMs: 0 });
      await again.release();
      const records: Record<string, unknown>[] = [];
      for await (const r of b.log('audit').read()) records.push(r.record as Record<string, unknown>);
      assert.equal(records.length, 1, `one takeover, no record for a plain acquire after a release: ${JSON.stringify(records)}`);
      const [record] = records as [Record<string, unknown>];
      assert.equal(record['action'], 'lock.takeover');
      assert.equal(record['target'], 'll/takeover');
      assert.ok(typeof record['at'] === 'number' && (record['at'] as number) >= before - 1_000);
      assert.deepEqual(record['before'], { owner: first.owner, token: first.token, expiresAt: first.expiresAt });
      assert.deepEqual(record['after'], { owner: second.owner, token: second.token, expiresAt: second.expiresAt });
      const who = record['who'] as { owner: string; host: string; pid: number };
      assert.equal(who.owner, second.owner);
      assert.equal(who.pid, process.pid);
      assert.ok(who.host.length > 0);
      // The lock handed back is the plain lease: nothing of the old holder travels with it.
      assert.equal('replaced' in second.lease, false);
      await second.release();
    });
  });
}
