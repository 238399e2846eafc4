import assert from 'node:assert/strict';
import { BackendUnavailableError } from '@agent-state/core';
import { openStore, skipTest, type ContractTarget, type TestApi } from '../harness.js';

/** Promise 12: an unreachable backend fails with BackendUnavailableError within the connect timeout. */
export function unavailableGroup(t: TestApi, target: ContractTarget): void {
  t.describe('unavailable backend', () => {
    const name = 'an unreachable backend fails with BackendUnavailableError within the connect timeout, naming where it tried';
    if (!target.unavailableConfig) {
      skipTest(t, target, name, 'the target gives no unreachable config');
      return;
    }
    t.it(
      name,
      async () => {
        const config = await target.unavailableConfig!();
        const timeout = config.settings?.connect_timeout_ms ?? 5_000;
        const started = Date.now();
        let error: unknown;
        try {
          const state = await openStore(config, target);
          try {
            await state.write('unavailable/x', 1);
          } finally {
            await state.close();
          }
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof BackendUnavailableError, `BackendUnavailableError, got ${String(error)}`);
        assert.equal(error.code, 'BACKEND_UNAVAILABLE');
        assert.ok(error.target.length > 0 && error.message.includes(error.target), 'the message names where it tried');
        // A bound, not a timing assertion: "never a hang" means within the timeout plus slack.
        assert.ok(Date.now() - started < timeout + 5_000, 'failed within the connect timeout');
      },
      60_000,
    );
  });
}
