/**
 * The shared contract suite: one group per promise of the spec. A backend package runs it in a
 * few lines:
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runContractSuite } from '@agent-state/core/contract';
 * runContractSuite({ describe, it }, { name: 'file', multiProcess: true, config: () => ({ … }) });
 * ```
 *
 * It receives the test runner, so core has no run-time dependency on vitest.
 */
import { skipped, type ContractTarget, type TestApi } from './harness.js';
import { atomicWritesGroup } from './groups/atomic-writes.js';
import { badInputGroup } from './groups/bad-input.js';
import { compareAndSetGroup } from './groups/compare-and-set.js';
import { lifecycleGroup } from './groups/lifecycle.js';
import { listGroup } from './groups/list.js';
import { locksGroup } from './groups/locks.js';
import { noLostUpdateGroup } from './groups/no-lost-update.js';
import { roundTripGroup } from './groups/round-trip.js';
import { transactionsGroup } from './groups/transactions.js';
import { ttlGroup } from './groups/ttl.js';
import { unavailableGroup } from './groups/unavailable.js';
import { queuesGroup } from './groups/queues.js';
import { pubsubGroup } from './groups/pubsub.js';
import { agentsGroup } from './groups/agents.js';
import { mailboxesGroup } from './groups/mailboxes.js';
import { versionsGroup } from './groups/versions.js';
import { propertiesGroup } from './groups/properties.js';

export type { ContractTarget, TestApi, WorkerMessage } from './harness.js';
export { Fixture, WorkerProcess, fixtureTest, processTest, skipTest, skipped } from './harness.js';
export { tasks, checkedValue, isWhole } from './tasks.js';
export {
  roundTripGroup,
  atomicWritesGroup,
  compareAndSetGroup,
  noLostUpdateGroup,
  locksGroup,
  transactionsGroup,
  ttlGroup,
  listGroup,
  badInputGroup,
  unavailableGroup,
  lifecycleGroup,
  queuesGroup,
  pubsubGroup,
  agentsGroup,
  mailboxesGroup,
  versionsGroup,
  propertiesGroup,
};

/** Every group, in the order of the spec's promises. */
export const CONTRACT_GROUPS = [
  roundTripGroup,
  atomicWritesGroup,
  compareAndSetGroup,
  versionsGroup,
  noLostUpdateGroup,
  locksGroup,
  transactionsGroup,
  ttlGroup,
  listGroup,
  queuesGroup,
  pubsubGroup,
  agentsGroup,
  mailboxesGroup,
  propertiesGroup,
  badInputGroup,
  unavailableGroup,
  lifecycleGroup,
] as const;

/** Runs every contract group against `target`, and prints what was skipped and why. */
export function runContractSuite(t: TestApi, target: ContractTarget): void {
  t.describe(`${target.name} backend contract`, () => {
    for (const group of CONTRACT_GROUPS) group(t, target);
  });
  if (skipped.length > 0) {
    process.stdout.write(`agent-state contract: skipped on ${target.name}:\n  ${skipped.filter((s) => s.startsWith(`${target.name}:`)).join('\n  ')}\n`);
  }
}
