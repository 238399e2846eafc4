import type { Profile } from '../profile.js';
import { COORDINATION_WORKLOADS } from './coordination.js';
import { KV_WORKLOADS } from './kv.js';
import { swarmWorkloads } from './swarm.js';
import type { Workload } from './types.js';

/** Every workload of a profile, in report order. */
export function allWorkloads(profile: Profile): Workload[] {
  return [...KV_WORKLOADS, ...COORDINATION_WORKLOADS, ...swarmWorkloads(profile)];
}

/** The workload with `id` (worker processes look workloads up by id). */
export function findWorkload(id: string, profile: Profile): Workload {
  const workload = allWorkloads(profile).find((w) => w.id === id);
  if (!workload) throw new Error(`no workload ${id}`);
  return workload;
}
