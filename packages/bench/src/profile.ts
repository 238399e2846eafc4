/** How big and how long a bench run is. */
export interface Profile {
  name: 'full' | 'quick' | 'test';
  /** Untimed warm-up before each case. */
  warmupMs: number;
  /** Length of one timed run. */
  runMs: number;
  /** Timed runs per case (median with min–max). */
  runs: number;
  /** Records preloaded for the YCSB mixes. */
  records: number;
  /** Worker processes of the multi-process cases. */
  processes: number;
  /** Operations in flight in the wide in-process case. */
  inflight: number;
  /** Agent processes of each swarm case. */
  swarmAgents: readonly number[];
  /** Task cycles per swarm case. */
  swarmCycles: number;
  /** Waiting jobs of the claim-cost cases: the small queue, the big backlog, jobs held in flight. */
  claim: { base: number; backlog: number; inflight: number };
  /** Jobs per round of the add+process (drain) cases, ours and BullMQ. */
  drainJobs: number;
  /** Alternated rounds of the `cli` case (the median is the figure). */
  cliRounds: number;
  /** Sequential calls of the shell-loop case; P×N of the concurrent shell case. */
  shellCalls: number;
  shellConcurrent: { processes: number; calls: number };
}

export const PROFILES: Record<Profile['name'], Profile> = {
  // The swarm at 10 and 50 agents (issue 13): the 50-agent case takes 1–2 minutes per backend on 2 cores.
  full: {
    name: 'full', warmupMs: 150, runMs: 400, runs: 3, records: 300, processes: 4, inflight: 32, swarmAgents: [10, 50], swarmCycles: 5,
    claim: { base: 100, backlog: 10_000, inflight: 1_000 }, drainJobs: 2_000, cliRounds: 10, shellCalls: 1_000, shellConcurrent: { processes: 10, calls: 100 },
  },
  quick: {
    name: 'quick', warmupMs: 25, runMs: 100, runs: 2, records: 50, processes: 2, inflight: 32, swarmAgents: [3], swarmCycles: 1,
    claim: { base: 100, backlog: 300, inflight: 50 }, drainJobs: 100, cliRounds: 3, shellCalls: 20, shellConcurrent: { processes: 2, calls: 5 },
  },
  test: {
    name: 'test', warmupMs: 0, runMs: 30, runs: 1, records: 20, processes: 2, inflight: 4, swarmAgents: [2], swarmCycles: 1,
    claim: { base: 10, backlog: 40, inflight: 10 }, drainJobs: 20, cliRounds: 1, shellCalls: 5, shellConcurrent: { processes: 2, calls: 3 },
  },
};
