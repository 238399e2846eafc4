import assert from 'node:assert/strict';
import { families, channelLog, sleep } from '@agent-state/core';
import { storageTest, type ContractTarget, type TestApi } from '../harness.js';

/**
 * Second wave, "Retention is bounded": expired messages leave no trace in storage (no rows,
 * keys, files, index members or stream entries) after one sweep. Counts, not bytes. The sweep
 * here is one `trim({ olderThanMs: retention })` of the channel's log, what a backend's own
 * sweeper does on its interval. Needs `target.storageCount`.
 */
export function retentionGroup(t: TestApi, target: ContractTarget): void {
  const scale = target.scale ?? 1;
  t.describe('retention', () => {
    storageTest(t, target, `${target.portable ? '1,000' : '10,000'} short-lived messages leave the store's record count back at its starting number after one sweep`, async (f, count) => {
      const state = await f.open();
      const retentionMs = 250;
      // The portable run (an extra check of core's path on a native backend) publishes through
      // a transaction per message, so it uses a tenth of the messages: same promise, less time.
      const n = Math.max(target.portable ? 200 : 1_000, Math.round((target.portable ? 1_000 : 10_000) * scale));
      const log = channelLog('retention');
      const sweep = () => families(state).logs.trim(log, { olderThanMs: retentionMs });
      // The channel's own metadata (its last sequence, kept so sequences never repeat) exists
      // from the first message on: count from there.
      await state.publish('retention', 'warm-up', { retentionMs });
      await sleep(retentionMs + 100);
      await sweep();
      const start = await count();
      for (let i = 0; i < n; i++) await state.publish('retention', { i }, { retentionMs });
      assert.ok((await families(state).logs.lastSeq(log)) >= n, 'every message was appended');
      await sleep(retentionMs + 100);
      await sweep();
      assert.equal(await count(), start, `storage count after ${n} expired messages and one sweep`);
    }, 600_000);
  });
}
