/** The suite's groups with the ids `validate()` and `--only` use. */
import type { ContractTarget, TestApi } from './harness.js';
import { agentsGroup } from './groups/agents.js';
import { atomicWritesGroup } from './groups/atomic-writes.js';
import { badInputGroup } from './groups/bad-input.js';
import { blockingWaitsGroup } from './groups/blocking-waits.js';
import { damagedDataGroup } from './groups/damaged-data.js';
import { compareAndSetGroup } from './groups/compare-and-set.js';
import { lifecycleGroup } from './groups/lifecycle.js';
import { listGroup } from './groups/list.js';
import { lockListingGroup } from './groups/lock-listing.js';
import { lockManyGroup } from './groups/lock-many.js';
import { locksGroup } from './groups/locks.js';
import { logsGroup } from './groups/logs.js';
import { mailboxesGroup } from './groups/mailboxes.js';
import { noLostUpdateGroup } from './groups/no-lost-update.js';
import { propertiesGroup } from './groups/properties.js';
import { pubsubGroup } from './groups/pubsub.js';
import { queuesGroup } from './groups/queues.js';
import { retentionGroup } from './groups/retention.js';
import { roundTripGroup } from './groups/round-trip.js';
import { transactionsGroup } from './groups/transactions.js';
import { ttlGroup } from './groups/ttl.js';
import { unavailableGroup } from './groups/unavailable.js';
import { versionsGroup } from './groups/versions.js';

/** One group of the suite: `run(test, target)` declares its tests. */
export interface GroupSpec {
  id: string;
  run: (t: TestApi, target: ContractTarget) => void;
  /** Queues, channels, mailboxes, logs, waits, locks: what `{ portable: true }` runs. */
  coordination: boolean;
}

const g = (id: string, run: GroupSpec['run'], coordination = false): GroupSpec => ({ id, run, coordination });

/** Every group, in the order of the spec's promises. */
export const GROUPS: readonly GroupSpec[] = [
  g('round-trip', roundTripGroup),
  g('atomic-writes', atomicWritesGroup),
  g('compare-and-set', compareAndSetGroup),
  g('versions', versionsGroup),
  g('no-lost-update', noLostUpdateGroup),
  g('locks', locksGroup),
  g('transactions', transactionsGroup),
  g('ttl', ttlGroup),
  g('list', listGroup),
  g('queues', queuesGroup, true),
  g('pubsub', pubsubGroup, true),
  g('agents', agentsGroup),
  g('mailboxes', mailboxesGroup, true),
  g('blocking-waits', blockingWaitsGroup, true),
  g('logs', logsGroup, true),
  g('lock-many', lockManyGroup, true),
  g('lock-listing', lockListingGroup),
  g('retention', retentionGroup, true),
  g('damaged-data', damagedDataGroup),
  g('properties', propertiesGroup),
  g('bad-input', badInputGroup),
  g('unavailable', unavailableGroup),
  g('lifecycle', lifecycleGroup),
];
