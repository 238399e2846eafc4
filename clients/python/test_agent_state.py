"""Tests of agent_state.py against a real `agent-state serve` (AGENT_STATE_URL, AGENT_STATE_TOKEN).

Run by apps/server/test/python.test.ts on every backend; by hand:
    AGENT_STATE_URL=http://127.0.0.1:7878 AGENT_STATE_TOKEN=... python3 -m unittest test_agent_state.py
"""

import os
import threading
import time
import unittest
import uuid

from agent_state import (
    AgentState,
    ConflictError,
    LockLostError,
    LockTimeoutError,
    StateError,
    UnauthorizedError,
    WaitTimeoutError,
)


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.environ.get("AGENT_STATE_URL"):
            raise unittest.SkipTest("AGENT_STATE_URL is not set")
        cls.s = AgentState()

    def test_health_and_auth(self):
        self.assertTrue(self.s.health()["ok"])
        with self.assertRaises(UnauthorizedError):
            AgentState(token="wrong-token-wrong-token").get("x")

    def test_failover_to_the_next_server(self):
        # Port 9 (discard) refuses on loopback: the client moves on to the live server.
        s = AgentState(url="http://127.0.0.1:9," + os.environ["AGENT_STATE_URL"])
        self.assertTrue(s.health()["ok"])
        self.assertEqual(s.set(fresh("py/failover"), 1)["value"], 1)
        self.assertEqual(s.url, os.environ["AGENT_STATE_URL"].rstrip("/"))

    def test_keys_and_cas(self):
        k = fresh("py/keys")
        self.assertIsNone(self.s.get(k))
        e = self.s.set(k, {"status": "assigned"})
        self.assertEqual(self.s.get_value(k), {"status": "assigned"})
        with self.assertRaises(ConflictError) as cm:
            self.s.set(k, 1, if_version=e["version"] + 7)
        self.assertEqual(cm.exception.code, "CONFLICT")
        self.assertEqual(cm.exception.status, 409)
        with self.assertRaises(ConflictError):
            self.s.set(k, 1, if_version="absent")
        self.s.set(k, {"status": "done"}, if_version=e["version"])
        self.assertEqual(self.s.increment(k + "/n", 2), 2)
        for i in range(3):
            self.s.set(f"{k}/list/{i}", i)
        self.assertEqual([x["value"] for x in self.s.list(prefix=f"{k}/list/", page_size=2)], [0, 1, 2])
        self.assertTrue(self.s.delete(k))
        self.assertFalse(self.s.delete(k))
        with self.assertRaises(StateError) as bad:
            self.s.set("../x", 1)
        self.assertEqual(bad.exception.code, "INVALID_KEY")

    def test_blocking_wait(self):
        k = fresh("py/wait")
        threading.Timer(0.2, lambda: self.s.set(k, "ready")).start()
        self.assertEqual(self.s.wait(k, timeout=20)["value"], "ready")
        with self.assertRaises(WaitTimeoutError):
            self.s.wait(k, min_version=10**9, timeout=0.05)

    def test_lock_context_manager_and_fence(self):
        r = fresh("py/locks")
        with self.s.lock(r, ttl_ms=30_000) as lock:
            self.assertGreater(lock.token, 0)
            with self.assertRaises(LockTimeoutError):
                self.s.lock(r, wait_ms=0)
            self.s.set(r + "/data", 1, fence=lock)
            lock.extend(60_000)
        self.assertTrue(lock.released)
        with self.assertRaises(LockLostError):
            self.s.set(r + "/data", 2, fence=lock)
        with self.s.lock_many([r + "/b", r + "/a"]) as locks:
            self.assertEqual([l.resource for l in locks], [r + "/a", r + "/b"])
            with self.assertRaises(LockTimeoutError):
                self.s.lock_many([r + "/c", r + "/b"], wait_ms=0)
            self.s.lock(r + "/c", wait_ms=0).release()  # all or none: c was not kept

    def test_transactions(self):
        k = fresh("py/tx")
        self.s.set(k + "/a", 10)
        with self.s.transaction() as tx:
            a = tx.get(k + "/a")
            tx.set(k + "/a", a["value"] - 3)
            tx.set(k + "/b", 3)
        self.assertEqual(self.s.get_value(k + "/a"), 7)
        tx = self.s.transaction()
        tx.get(k + "/a")
        self.s.set(k + "/a", 0)  # moves under the transaction
        tx.set(k + "/c", 1)
        with self.assertRaises(ConflictError):
            tx.commit()
        self.assertIsNone(self.s.get(k + "/c"))
        n = self.s.run_transaction(lambda t: (t.set(k + "/d", (t.get(k + "/a") or {"value": 0})["value"] + 1), 1)[1])
        self.assertEqual(n, 1)

    def test_queue(self):
        q = self.s.queue(fresh("pyq"))
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("job", q.claim(wait_ms=20_000, lease_ms=30_000)))
        t.start()
        time.sleep(0.2)
        added = q.enqueue({"exp": 7}, priority="high")
        t.join(25)
        job = result["job"]
        self.assertEqual(job.id, added["id"])
        self.assertEqual(job.payload, {"exp": 7})
        self.assertIsNone(q.claim())
        self.assertEqual(q.counts()["inFlight"], 1)
        self.assertTrue(job.nack())
        again = q.claim()
        self.assertEqual(again.attempts, 2)
        self.assertTrue(again.ack())
        self.assertFalse(job.ack())

    def test_mailboxes_and_agents(self):
        a, b = fresh("pya"), fresh("pyb")
        self.s.agents.register(a, {"role": "executor"}, heartbeat_interval_ms=60_000)
        self.s.agents.heartbeat(a, {"progress": 0.5})
        self.assertIn(a, [x["agentId"] for x in self.s.agents.list()])
        self.s.mailbox(a).send(b, "hello")
        got = self.s.mailbox(b).receive(wait_ms=5_000)
        self.assertEqual([m["message"] for m in got], ["hello"])
        self.assertEqual(len(self.s.mailbox(b).receive()), 1)  # left until acked
        self.s.mailbox(b).ack([m["id"] for m in got])
        self.assertEqual(self.s.mailbox(b).receive(), [])

    def test_logs_and_follow(self):
        log = self.s.log(fresh("pylog"))
        first = log.append({"step": 1})
        log.append({"step": 2})
        self.assertEqual([r["record"] for r in log.read()], [{"step": 1}, {"step": 2}])
        seen = []
        for rec in log.follow(after=first["seq"]):
            seen.append(rec["record"])
            if len(seen) == 1:
                log.append({"step": 3})
            if len(seen) == 2:
                break
        self.assertEqual(seen, [{"step": 2}, {"step": 3}])

    def test_channels(self):
        ch = fresh("pych")
        seqs = [self.s.publish(ch, {"n": n}) for n in (1, 2, 3)]
        got = []
        for m in self.s.subscribe(ch, after=seqs[0]):
            got.append(m["message"])
            if len(got) == 2:
                break
        self.assertEqual(got, [{"n": 2}, {"n": 3}])


if __name__ == "__main__":
    unittest.main()
