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
}

export const PROFILES: Record<Profile['name'], Profile> = {
  // The 50-agent swarm alone takes 1–2 minutes per backend on 2 cores: ask for it with --swarm 10,50.
  full: { name: 'full', warmupMs: 150, runMs: 400, runs: 3, records: 300, processes: 4, inflight: 32, swarmAgents: [10], swarmCycles: 2 },
  quick: { name: 'quick', warmupMs: 25, runMs: 100, runs: 2, records: 50, processes: 2, inflight: 32, swarmAgents: [3], swarmCycles: 1 },
  test: { name: 'test', warmupMs: 0, runMs: 30, runs: 1, records: 20, processes: 2, inflight: 4, swarmAgents: [2], swarmCycles: 1 },
};
