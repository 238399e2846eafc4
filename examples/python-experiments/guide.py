#!/usr/bin/env python3
"""Guide agent: follows an experiment's progress as it is appended (server-sent events, no
polling of logs/progress.txt), notices a silent executor through the agent registry, validates
the results when the executor is done, and leaves the executor a message for its next turn.

Usage: guide.py EXPERIMENT [--agent guide_01] [--timeout 600]
Exit 0 when the experiment completed and validated, 1 otherwise.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from agent_state import AgentState  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("experiment")
    p.add_argument("--agent", default="guide_01")
    p.add_argument("--timeout", type=float, default=600.0)
    a = p.parse_args()

    state = AgentState(timeout=a.timeout)
    state.agents.register(a.agent, {"role": "guide"}, heartbeat_interval_ms=60_000)
    print(f"{a.agent}: following experiment {a.experiment}", flush=True)

    # after=0: every record of the experiment, including those appended before we started.
    executor = None
    for rec in state.log(f"progress.{a.experiment}").follow(after=0):
        r = rec["record"]
        if r["event"] == "start":
            executor = r["agent"]
            print(f"{a.agent}: {executor} started ({r['steps']} steps)", flush=True)
        elif r["event"] == "step":
            print(f"{a.agent}: step {r['step']}/{r['of']} score {r['score']}", flush=True)
        elif r["event"] == "done":
            break

    results = state.get_value(f"experiments/{a.experiment}/results")
    registry = state.get_value(f"registry/{a.experiment}")
    ok = results is not None and registry is not None and registry["status"] == "complete" and results["steps"] > 0
    print(f"{a.agent}: experiment {a.experiment} {'validated' if ok else 'INVALID'}: {results}", flush=True)
    if executor:
        state.mailbox(a.agent).send(executor, f"{a.experiment} reviewed: {'ok' if ok else 'invalid'}; next: plan {a.experiment}-2")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
