#!/usr/bin/env python3
"""Executor agent of the seed's executor/guide protocol, on agent-state instead of files.

    seed (multi-agent-protocol.md)           here
    -------------------------------------    ---------------------------------------------------
    .LOCK file, stale by mtime               lock experiments/<name> (lease + fencing token);
                                             a crashed executor's lease lapses by its ttl
    REGISTRY.md status (fcntl.flock)         key registry/<name>: {status, agent, ...}, CAS-free
                                             writes fenced by the lock
    logs/progress.txt                        log progress.<name>: the guide follows it (SSE)
    .AGENT_ID / "who is alive"               agent registry with heartbeats
    results/metrics.json, .DONE              key experiments/<name>/results, status "complete"

Usage: executor.py EXPERIMENT [--agent executor_01] [--steps 10] [--step-seconds 0.5]
Exit 0 when done, 3 when another executor already holds the experiment.
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from agent_state import AgentState, LockTimeoutError  # noqa: E402

LEASE_MS = 30_000


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("experiment")
    p.add_argument("--agent", default="executor_01")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--step-seconds", type=float, default=0.5)
    a = p.parse_args()

    state = AgentState()
    state.agents.register(a.agent, {"role": "executor"}, heartbeat_interval_ms=5_000)
    progress = state.log(f"progress.{a.experiment}")

    try:
        lock = state.lock(f"experiments/{a.experiment}", ttl_ms=LEASE_MS, wait_ms=0)
    except LockTimeoutError:
        print(f"{a.agent}: experiment {a.experiment} is already running elsewhere", flush=True)
        return 3

    # Heartbeat and keep the lease while working; if this process dies, both simply stop and the
    # lease lapses after LEASE_MS: no stale .LOCK file to judge by its mtime.
    stop = threading.Event()

    def keep_alive():
        while not stop.wait(2.0):
            state.agents.heartbeat(a.agent, {"experiment": a.experiment})
            lock.extend(LEASE_MS)

    keeper = threading.Thread(target=keep_alive, daemon=True)
    keeper.start()
    with lock:
        state.set(f"registry/{a.experiment}", {"status": "running", "agent": a.agent, "started": time.time()}, fence=lock)
        progress.append({"event": "start", "agent": a.agent, "steps": a.steps})
        score = 0.0
        for step in range(1, a.steps + 1):
            time.sleep(a.step_seconds)
            score += random.random()
            progress.append({"event": "step", "step": step, "of": a.steps, "score": round(score, 3)})
        metrics = {"score": round(score, 3), "steps": a.steps}
        state.set(f"experiments/{a.experiment}/results", metrics, fence=lock)
        state.set(f"registry/{a.experiment}", {"status": "complete", "agent": a.agent, "metrics": metrics}, fence=lock)
        progress.append({"event": "done", "metrics": metrics})
        stop.set()
        keeper.join()
    print(f"{a.agent}: experiment {a.experiment} complete: {metrics}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
