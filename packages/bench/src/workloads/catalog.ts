import type { Profile } from '../profile.js';
import { COMMAND_WORKLOADS } from './commands.js';
import { COORDINATION_WORKLOADS } from './coordination.js';
import { firebaseScaleWorkloads } from './firebase-scale.js';
import { KV_WORKLOADS } from './kv.js';
import { LOG_WORKLOADS } from './logs.js';
import { METRICS_WORKLOADS } from './metrics.js';
import { QUEUE_WORKLOADS } from './queues.js';
import { swarmWorkloads } from './swarm.js';
import type { Workload } from './types.js';

/** Every workload of a profile, in report order. */
export function allWorkloads(profile: Profile): Workload[] {
  return [...KV_WORKLOADS, ...COORDINATION_WORKLOADS, ...QUEUE_WORKLOADS, ...LOG_WORKLOADS, ...swarmWorkloads(profile), ...COMMAND_WORKLOADS, ...METRICS_WORKLOADS, ...firebaseScaleWorkloads(profile)];
}

/** The workload with `id` (worker processes look workloads up by id). */
export function findWorkload(id: string, profile: Profile): Workload {
  const workload = allWorkloads(profile).find((w) => w.id === id);
  if (!workload) throw new Error(`no workload ${id}`);
  return workload;
}
