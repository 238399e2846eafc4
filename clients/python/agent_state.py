"""agent-state for Python: a client of `agent-state serve`, standard library only (urllib, json).

One file: copy it next to your script, or put `clients/python` on PYTHONPATH.

    from agent_state import AgentState

    state = AgentState()                      # AGENT_STATE_URL / AGENT_STATE_TOKEN, or the token file
    state.set("tasks/42", {"status": "assigned"})
    entry = state.get("tasks/42")             # {"key", "value", "version", "updatedAt", ...} or None
    state.set("tasks/42", {"status": "done"}, if_version=entry["version"])   # CAS: ConflictError if it moved

    with state.lock("experiments/e7", ttl_ms=60_000) as lock:     # released on exit
        state.set("experiments/e7/status", "running", fence=lock)  # refused once the lock is lost

    with state.transaction() as tx:           # optimistic: commits on exit, ConflictError if a read moved
        a = tx.get("accounts/a")
        tx.set("accounts/a", a["value"] - 1 if a else 0)

    job = state.queue("tasks").claim(wait_ms=30_000)   # blocks on the server, no polling
    state.log("progress").append({"step": 3})
    for rec in state.log("progress").follow():          # server-sent events
        print(rec["record"])

Errors are `StateError` subclasses carrying the contract's `code` (CONFLICT, LOCK_TIMEOUT, ...).
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

__all__ = [
    "AgentState",
    "StateError",
    "ConflictError",
    "LockTimeoutError",
    "LockLostError",
    "NotFoundError",
    "WaitTimeoutError",
    "UnauthorizedError",
    "Lock",
    "Transaction",
    "Queue",
    "Job",
    "Mailbox",
    "Agents",
    "Log",
]

DEFAULT_URL = "http://127.0.0.1:7878"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class StateError(Exception):
    """An error answered by the server: `code` is the contract's code, `status` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 0):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ConflictError(StateError):
    """A compare-and-set or transaction found another version (409)."""


class LockTimeoutError(StateError):
    """A lock was not acquired within wait_ms (408)."""


class LockLostError(StateError):
    """A lock expired or was taken over (409)."""


class NotFoundError(StateError):
    """No such key, job or route (404)."""


class WaitTimeoutError(StateError):
    """A blocking wait ran out (408)."""


class UnauthorizedError(StateError):
    """Missing or wrong token (401)."""


_BY_CODE = {
    "CONFLICT": ConflictError,
    "LOCK_TIMEOUT": LockTimeoutError,
    "LOCK_LOST": LockLostError,
    "NOT_FOUND": NotFoundError,
    "TIMEOUT": WaitTimeoutError,
    "UNAUTHORIZED": UnauthorizedError,
}


def _error(status: int, body: bytes) -> StateError:
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        code, message = str(err["code"]), str(err["message"])
    except Exception:  # not our JSON: a proxy, a crash
        code, message = "HTTP_%d" % status, body.decode("utf-8", "replace")[:200]
    return _BY_CODE.get(code, StateError)(code, message, status)


def _find_token_file(start: str) -> Optional[str]:
    """`.agent-state/serve.token` next to the nearest project.yml, else in `start`."""
    directory = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(directory, "project.yml")):
            return os.path.join(directory, ".agent-state", "serve.token")
        parent = os.path.dirname(directory)
        if parent == directory:
            return os.path.join(os.path.abspath(start), ".agent-state", "serve.token")
        directory = parent


def _seg(name: str) -> str:
    return urllib.parse.quote(str(name), safe="")


def _key_path(key: str) -> str:
    return "/".join(_seg(s) for s in str(key).split("/"))


def _fence(lock: Any) -> Optional[Dict[str, Any]]:
    if lock is None:
        return None
    if isinstance(lock, Lock):
        return lock.lease
    return {"resource": lock["resource"], "token": lock["token"], "owner": lock["owner"]}


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class AgentState:
    """A client of one `agent-state serve`. Thread-safe (each call is one HTTP request)."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, token_file: Optional[str] = None, timeout: float = 30.0):
        # Several servers on one shared backend behave as one: "http://a:7878,http://b:7878" fails
        # over to the next when a server refuses the connection (the request never reached it).
        self.urls = [u.strip().rstrip("/") for u in (url or os.environ.get("AGENT_STATE_URL") or DEFAULT_URL).split(",") if u.strip()]
        self.url = self.urls[0]
        if token is None:
            token = os.environ.get("AGENT_STATE_TOKEN") or None
        if token is None:
            path = token_file or _find_token_file(os.getcwd())
            try:
                with open(path, "r", encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError as e:
                raise UnauthorizedError("UNAUTHORIZED", f"no token: set AGENT_STATE_TOKEN or start `agent-state serve` here ({e})", 401)
        self.token = token
        self.timeout = timeout
        self.agents = Agents(self)

    # ----- transport -----------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, Any]] = None, wait_ms: float = 0) -> Any:
        """One JSON request; returns the decoded body (None for 204). Raises StateError."""
        suffix = path
        if query:
            q = {k: v for k, v in query.items() if v is not None}
            if q:
                suffix += "?" + urllib.parse.urlencode(q)
        data = None
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for attempt in range(len(self.urls)):
            req = urllib.request.Request(self.url + suffix, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout + wait_ms / 1000.0) as res:
                    raw = res.read()
                    if res.status == 204 or not raw:
                        return None
                    return json.loads(raw.decode("utf-8"))
            except urllib.error.HTTPError as e:
                raise _error(e.code, e.read()) from None
            except urllib.error.URLError as e:
                # Only a refused connection is safe to retry elsewhere: nothing was sent.
                if not isinstance(e.reason, ConnectionRefusedError) or attempt == len(self.urls) - 1:
                    raise
                self.url = self.urls[(self.urls.index(self.url) + 1) % len(self.urls)]
        raise AssertionError("unreachable")

    def events(self, path: str, after: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Server-sent events of `path`: yields each event's decoded data; resumes after `after`."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            # The server pings every 15 s, so a read that waits longer than this means it is gone.
            res = urllib.request.urlopen(req, timeout=max(self.timeout, 45.0))
        except urllib.error.HTTPError as e:
            raise _error(e.code, e.read()) from None
        with res:
            data: List[str] = []
            for raw in res:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        yield json.loads("\n".join(data))
                    data = []
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))

    def health(self) -> Dict[str, Any]:
        return self.request("GET", "/health")

    # ----- keys ----------------------------------------------------------------------------

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        """The entry (`key`, `value`, `version`, `updatedAt`, `expiresAt`?) or None."""
        try:
            return self.request("GET", "/v1/keys/" + _key_path(key))
        except NotFoundError:
            return None

    def get_value(self, key: str, default: Any = None) -> Any:
        entry = self.get(key)
        return default if entry is None else entry["value"]

    def set(self, key: str, value: Any, if_version: Any = None, ttl_ms: Optional[float] = None, fence: Any = None) -> Dict[str, Any]:
        """Writes; with `if_version` (a version, or "absent") only if it still matches (ConflictError)."""
        body: Dict[str, Any] = {"value": value}
        if if_version is not None:
            body["ifVersion"] = if_version
        if ttl_ms is not None:
            body["ttlMs"] = ttl_ms
        if fence is not None:
            body["fence"] = _fence(fence)
        return self.request("PUT", "/v1/keys/" + _key_path(key), body)

    def delete(self, key: str, if_version: Any = None) -> bool:
        return self.request("DELETE", "/v1/keys/" + _key_path(key), query={"ifVersion": if_version})["deleted"]

    def increment(self, key: str, by: float = 1) -> float:
        return self.request("POST", "/v1/keys/" + _key_path(key), {"by": by}, query={"op": "increment"})["value"]

    def list(self, prefix: Optional[str] = None, page_size: int = 500) -> Iterator[Dict[str, Any]]:
        """Every live entry under `prefix`, in key order, paged."""
        after = None
        while True:
            page = self.request("GET", "/v1/keys", query={"prefix": prefix, "after": after, "limit": page_size})
            for entry in page["entries"]:
                yield entry
            after = page.get("next")
            if not after:
                return

    def wait(self, key: str, min_version: Optional[int] = None, timeout: float = 30.0) -> Dict[str, Any]:
        """Blocks (on the server, no polling) until `key` exists with version >= min_version."""
        ms = int(timeout * 1000)
        return self.request("GET", "/v1/keys/" + _key_path(key), query={"wait": "1", "minVersion": min_version, "timeoutMs": ms}, wait_ms=ms)

    # ----- locks ---------------------------------------------------------------------------

    def lock(self, resource: str, ttl_ms: Optional[float] = None, wait_ms: Optional[float] = None) -> "Lock":
        """Takes a lock (a lease with a fencing token); a context manager that releases it."""
        body = {k: v for k, v in {"ttlMs": ttl_ms, "waitMs": wait_ms}.items() if v is not None}
        lease = self.request("POST", "/v1/locks/" + _key_path(resource), body, wait_ms=wait_ms or 10_000)
        return Lock(self, lease)

    def lock_many(self, resources: List[str], ttl_ms: Optional[float] = None, wait_ms: Optional[float] = None) -> "LockSet":
        """All of `resources` or none; a context manager that releases them all."""
        body: Dict[str, Any] = {"resources": list(resources)}
        if ttl_ms is not None:
            body["ttlMs"] = ttl_ms
        if wait_ms is not None:
            body["waitMs"] = wait_ms
        leases = self.request("POST", "/v1/locks", body, wait_ms=wait_ms or 10_000)["locks"]
        return LockSet([Lock(self, lease) for lease in leases])

    # ----- transactions --------------------------------------------------------------------

    def transaction(self) -> "Transaction":
        """An optimistic transaction: reads are recorded, writes buffered, committed on `with` exit."""
        return Transaction(self)

    def run_transaction(self, fn, retries: int = 10) -> Any:
        """Runs `fn(tx)` and commits, re-running it on ConflictError up to `retries` times."""
        for attempt in range(retries + 1):
            tx = Transaction(self)
            result = fn(tx)
            try:
                tx.commit()
                return result
            except ConflictError:
                if attempt == retries:
                    raise
                time.sleep(min(0.2, 0.005 * (2 ** attempt)))

    # ----- coordination --------------------------------------------------------------------

    def queue(self, name: str) -> "Queue":
        return Queue(self, name)

    def mailbox(self, agent_id: str) -> "Mailbox":
        return Mailbox(self, agent_id)

    def log(self, name: str) -> "Log":
        return Log(self, name)

    def publish(self, channel: str, message: Any) -> int:
        return self.request("POST", f"/v1/channels/{_seg(channel)}/messages", {"message": message})["sequence"]

    def subscribe(self, channel: str, after: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Yields `{sequence, message, publishedAt}` for each message; `after` replays retained ones."""
        return self.events(f"/v1/channels/{_seg(channel)}/events", after)


class Lock:
    """A held lock. `token` is the fencing token; pass the lock as `fence=` to `set`."""

    def __init__(self, client: AgentState, lease: Dict[str, Any]):
        self._client = client
        self.resource: str = lease["resource"]
        self.token: int = lease["token"]
        self.owner: str = lease["owner"]
        self.expires_at: float = lease["expiresAt"]
        self.released = False

    @property
    def lease(self) -> Dict[str, Any]:
        return {"resource": self.resource, "token": self.token, "owner": self.owner}

    def extend(self, ttl_ms: float) -> None:
        lease = self._client.request("POST", "/v1/locks/" + _key_path(self.resource), {"token": self.token, "owner": self.owner, "ttlMs": ttl_ms}, query={"op": "extend"})
        self.expires_at = lease["expiresAt"]

    def release(self) -> None:
        if self.released:
            return
        self._client.request("DELETE", "/v1/locks/" + _key_path(self.resource), {"token": self.token, "owner": self.owner})
        self.released = True

    def __enter__(self) -> "Lock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class LockSet(list):
    """Locks taken together by `lock_many`; a context manager releasing every one."""

    def release(self) -> None:
        errors = []
        for lock in self:
            try:
                lock.release()
            except LockLostError as e:
                errors.append(e)
        if errors:
            raise errors[0]

    def __enter__(self) -> "LockSet":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class Transaction:
    """Reads record the version they saw; `commit` applies every write if no read moved."""

    def __init__(self, client: AgentState):
        self._client = client
        self._reads: Dict[str, Optional[int]] = {}
        self._writes: Dict[str, Dict[str, Any]] = {}
        self.closed = False

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        if key in self._writes:
            w = self._writes[key]
            return None if w.get("delete") else {"key": key, "value": w["value"]}
        entry = self._client.get(key)
        self._reads.setdefault(key, None if entry is None else entry["version"])
        return entry

    def set(self, key: str, value: Any, ttl_ms: Optional[float] = None) -> None:
        w: Dict[str, Any] = {"key": key, "value": value}
        if ttl_ms is not None:
            w["ttlMs"] = ttl_ms
        self._writes[key] = w

    def delete(self, key: str) -> None:
        self._writes[key] = {"key": key, "delete": True}

    def commit(self) -> None:
        if self.closed:
            raise StateError("TRANSACTION_CLOSED", "the transaction was already committed or rolled back", 400)
        self.closed = True
        reads = [{"key": k, "version": v} for k, v in self._reads.items()]
        self._client.request("POST", "/v1/transactions", {"reads": reads, "writes": list(self._writes.values())})

    def rollback(self) -> None:
        self.closed = True

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and not self.closed:
            self.commit()
        else:
            self.rollback()


class Job:
    """A claimed job; `ack()` when done, `nack()` to give it back."""

    def __init__(self, queue: "Queue", data: Dict[str, Any]):
        self._queue = queue
        self.id: str = data["id"]
        self.lease_id: str = data["leaseId"]
        self.payload: Any = data["payload"]
        self.priority: int = data["priority"]
        self.sequence: int = data["sequence"]
        self.attempts: int = data["attempts"]

    def ack(self) -> bool:
        return self._queue.ack(self.id, self.lease_id)

    def nack(self, delay_ms: Optional[float] = None) -> bool:
        return self._queue.nack(self.id, self.lease_id, delay_ms)


class Queue:
    """A priority queue with leases: at-least-once, one atomic claim per job."""

    def __init__(self, client: AgentState, name: str):
        self._client = client
        self.name = name
        self._path = f"/v1/queues/{_seg(name)}"

    def enqueue(self, payload: Any, priority: Any = None, delay_ms: Optional[float] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"payload": payload}
        if priority is not None:
            body["priority"] = priority
        if delay_ms is not None:
            body["delayMs"] = delay_ms
        return self._client.request("POST", self._path + "/jobs", body)

    def claim(self, lease_ms: Optional[float] = None, wait_ms: Optional[float] = None) -> Optional[Job]:
        """The next job, or None (after waiting up to wait_ms on the server)."""
        body = {k: v for k, v in {"leaseMs": lease_ms, "waitMs": wait_ms}.items() if v is not None}
        data = self._client.request("POST", self._path + "/claim", body, wait_ms=wait_ms or 0)
        return None if data is None else Job(self, data)

    def ack(self, job_id: str, lease_id: str) -> bool:
        return self._client.request("POST", f"{self._path}/jobs/{_seg(job_id)}/ack", {"leaseId": lease_id})["acked"]

    def nack(self, job_id: str, lease_id: str, delay_ms: Optional[float] = None) -> bool:
        body: Dict[str, Any] = {"leaseId": lease_id}
        if delay_ms is not None:
            body["delayMs"] = delay_ms
        return self._client.request("POST", f"{self._path}/jobs/{_seg(job_id)}/nack", body)["nacked"]

    def counts(self) -> Dict[str, int]:
        """`waiting`, `inFlight`, `delayed`, `deadLetters`."""
        return self._client.request("GET", self._path)


class Mailbox:
    """One agent's mailbox: messages wait until acked."""

    def __init__(self, client: AgentState, agent_id: str):
        self._client = client
        self.agent_id = agent_id
        self._path = f"/v1/mailboxes/{_seg(agent_id)}"

    def send(self, to: str, message: Any, priority: Any = None) -> List[str]:
        body: Dict[str, Any] = {"to": to, "message": message}
        if priority is not None:
            body["priority"] = priority
        return self._client.request("POST", self._path + "/messages", body)["ids"]

    def receive(self, from_: Optional[str] = None, limit: Optional[int] = None, wait_ms: Optional[float] = None) -> List[Dict[str, Any]]:
        """Waiting messages, oldest first (left in place until `ack`)."""
        query = {"from": from_, "limit": limit, "waitMs": None if wait_ms is None else int(wait_ms)}
        return self._client.request("GET", self._path + "/messages", query=query, wait_ms=wait_ms or 0)["messages"]

    def ack(self, ids: List[str]) -> int:
        return self._client.request("POST", self._path + "/ack", {"ids": list(ids)})["acked"]


class Agents:
    """The agent registry: register, heartbeat, list (status: healthy, unhealthy, missing)."""

    def __init__(self, client: AgentState):
        self._client = client

    def register(self, agent_id: str, info: Any = None, heartbeat_interval_ms: Optional[float] = None) -> None:
        body: Dict[str, Any] = {"info": {} if info is None else info}
        if heartbeat_interval_ms is not None:
            body["heartbeatIntervalMs"] = heartbeat_interval_ms
        self._client.request("PUT", f"/v1/agents/{_seg(agent_id)}", body)

    def heartbeat(self, agent_id: str, metrics: Any = None) -> None:
        self._client.request("POST", f"/v1/agents/{_seg(agent_id)}/heartbeat", {"metrics": metrics})

    def list(self) -> List[Dict[str, Any]]:
        return self._client.request("GET", "/v1/agents")["agents"]


class Log:
    """An append-only log (progress, audit): append, read, follow."""

    def __init__(self, client: AgentState, name: str):
        self._client = client
        self.name = name
        self._path = f"/v1/logs/{_seg(name)}"

    def append(self, record: Any) -> Dict[str, Any]:
        """Returns `{seq, at}`."""
        return self._client.request("POST", self._path + "/records", {"record": record})

    def read(self, after: int = 0, limit: int = 100) -> List[Dict[str, Any]]:
        """Records `{seq, at, record}` with seq > after, oldest first."""
        return self._client.request("GET", self._path + "/records", query={"after": after, "limit": limit})["records"]

    def follow(self, after: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Yields records as they are appended (server-sent events); `after` starts past that seq."""
        return self._client.events(self._path + "/events", after)


# A closed SSE stream surfaces as one of these; callers that follow forever can catch them.
StreamClosed = (socket.timeout, ConnectionError, urllib.error.URLError)
