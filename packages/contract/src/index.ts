/**
 * The shared contract suite: one group per promise of the spec. A backend package runs it in a
 * few lines:
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runContractSuite } from '@agent-state/contract';
 * runContractSuite({ describe, it }, { name: 'file', multiProcess: true, config: () => ({ … }) });
 * ```
 *
 * It receives the test runner, so the package has no run-time dependency on vitest. Without a
 * test runner, `validate(target)` runs the same groups and returns a report (see `validate.ts`),
 * and `npx agent-state-contract --backend <module>` prints it as a table.
 *
 * **Both coordination paths.** A backend with native queues, logs or notify runs the whole
 * suite on its native path, and should also run the coordination groups on core's portable
 * path (the key-contract implementations every backend without native families uses), so the
 * portable path stays honest on a real multi-process store:
 *
 * ```ts
 * const target = { name: 'sqlite', multiProcess: true, config: () => ({ … }), storageCount: async (c) => … };
 * runContractSuite({ describe, it }, target);
 * runContractSuite({ describe, it }, target, { portable: true }); // COORDINATION_GROUPS only
 * ```
 *
 * With `{ portable: true }` every client the suite opens and every worker process calls
 * `usePortableCoordination()` first, so the backend's `queues` / `logs` / `notify` are hidden.
 * The retention group needs `storageCount(config)` (rows, keys, files, index members, stream
 * entries of the test's store); without it that group is skipped, and fails under `CI=true`.
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
import { blockingWaitsGroup } from './groups/blocking-waits.js';
import { logsGroup } from './groups/logs.js';
import { lockManyGroup } from './groups/lock-many.js';
import { lockListingGroup } from './groups/lock-listing.js';
import { retentionGroup } from './groups/retention.js';
import { damagedDataGroup } from './groups/damaged-data.js';

export type { ContractTarget, DamageHook, TestApi, WorkerMessage, TestKind } from './harness.js';
export { usePortableCoordination } from '@agent-state/core';
export { Fixture, WorkerProcess, fixtureTest, processTest, skipTest, skipped, storageTest, openStore, createFromModule, testKinds, openFixtures } from './harness.js';
export { validate, formatReport, GROUP_NAMES } from './validate.js';
export type { ConformanceReport, GroupReport, TestFailure, TestEvent, ValidateOptions } from './validate.js';
export { capabilitiesOf, detectCapabilities } from './capabilities.js';
export type { DetectedCapabilities } from './capabilities.js';
export { GROUPS } from './catalog.js';
export type { GroupSpec } from './catalog.js';
export { firstPartyTarget, moduleTarget, FIRST_PARTY } from './targets.js';
export type { TargetOptions } from './targets.js';
export { tasks, checkedValue, isWhole } from './tasks.js';
export { driverFilesLoaded, lazyDriverGroup } from './lazy-driver.js';
export type { DriverFiles } from './lazy-driver.js';
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
  blockingWaitsGroup,
  logsGroup,
  lockManyGroup,
  lockListingGroup,
  retentionGroup,
  damagedDataGroup,
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
  blockingWaitsGroup,
  logsGroup,
  lockManyGroup,
  lockListingGroup,
  retentionGroup,
  damagedDataGroup,
  propertiesGroup,
  badInputGroup,
  unavailableGroup,
  lifecycleGroup,
] as const;

/** The groups about queues, channels, mailboxes, logs, waits and locks: what `{ portable: true }` runs. */
export const COORDINATION_GROUPS = [
  queuesGroup,
  pubsubGroup,
  mailboxesGroup,
  blockingWaitsGroup,
  logsGroup,
  lockManyGroup,
  retentionGroup,
] as const;

/** Options of {@link runContractSuite}. */
export interface ContractSuiteOptions {
  /**
   * Run only {@link COORDINATION_GROUPS}, with the backend's native coordination families
   * hidden, so they exercise core's portable path on this backend.
   */
  portable?: boolean;
}

/** Runs every contract group against `target`, and prints what was skipped and why. */
export function runContractSuite(t: TestApi, target: ContractTarget, options: ContractSuiteOptions = {}): void {
  if (options.portable) {
    const portable: ContractTarget = { ...target, name: `${target.name} (portable coordination)`, portable: true };
    t.describe(`${portable.name} backend contract`, () => {
      for (const group of COORDINATION_GROUPS) group(t, portable);
    });
    target = portable;
  } else {
    t.describe(`${target.name} backend contract`, () => {
      for (const group of CONTRACT_GROUPS) group(t, target);
    });
  }
  if (skipped.length > 0) {
    process.stdout.write(`agent-state contract: skipped on ${target.name}:\n  ${skipped.filter((s) => s.startsWith(`${target.name}:`)).join('\n  ')}\n`);
  }
}
