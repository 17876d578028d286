"""A small HTTP load generator: threads, each with its own http.client connection.

Each thread sends GET requests one after the other for a fixed time and records the
latency of every answer. Connections are kept alive when the server allows it (gunicorn's
sync workers close them after each answer; http.client then reconnects by itself).
"""

import http.client
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HEADERS = {"Accept": "text/html", "User-Agent": "aap-bench"}


@dataclass
class Endpoint:
    name: str
    label: str  # the path, or its pattern when each request picks one
    pick: Callable[[random.Random], str]
    headers: dict[str, str] = field(default_factory=dict)  # a session cookie, for staff pages
    # Paths requested once before the load: the pages a cache keeps, each kept once.
    prime: tuple[str, ...] = ()


def percentile_ms(latencies: list[float], p: float) -> float:
    """Nearest-rank percentile of latencies in seconds, in milliseconds."""
    if not latencies:
        return math.nan
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


@dataclass
class Result:
    name: str
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, answers with 200 only
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # exceptions, by class name
    body_bytes: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200) + sum(
            self.failures.values()
        )

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the successful answers' latency, in milliseconds."""
        return percentile_ms(self.latencies, p)

    def as_dict(self) -> dict:
        return {
            "endpoint": self.name,
            "path": self.label,
            "seconds": round(self.seconds, 3),
            "requests": self.ok + self.errors,
            "requests_per_second": round(self.rps, 1),
            "p50_ms": round(self.percentile_ms(50), 2),
            "p90_ms": round(self.percentile_ms(90), 2),
            "p95_ms": round(self.percentile_ms(95), 2),
            "p99_ms": round(self.percentile_ms(99), 2),
            "errors": self.errors,
            "statuses": {str(status): n for status, n in self.statuses.items()},
            "failures": dict(self.failures),
            "mean_body_bytes": round(self.body_bytes / self.ok) if self.ok else 0,
        }


def _worker(host, port, endpoint, seed, start, stop_at, result, lock):
    rng = random.Random(seed)
    headers = {**HEADERS, **endpoint.headers}
    latencies, statuses, failures, body_bytes = [], Counter(), Counter(), 0
    conn = http.client.HTTPConnection(host, port, timeout=30)
    start.wait()
    while time.perf_counter() < stop_at[0]:
        path = endpoint.pick(rng)
        began = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            failures[type(error).__name__] += 1
            conn.close()
            continue
        elapsed = time.perf_counter() - began
        statuses[response.status] += 1
        if response.status == 200:
            latencies.append(elapsed)
            body_bytes += len(body)
    conn.close()
    with lock:
        result.latencies.extend(latencies)
        result.statuses.update(statuses)
        result.failures.update(failures)
        result.body_bytes += body_bytes


def hammer(host: str, port: int, endpoint: Endpoint, *, seconds: float, concurrency: int):
    """``concurrency`` clients request ``endpoint`` back to back for ``seconds``."""
    result = Result(endpoint.name, endpoint.label, seconds=0.0)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    stop_at = [math.inf]
    threads = [
        threading.Thread(
            target=_worker,
            args=(host, port, endpoint, index, start, stop_at, result, lock),
            daemon=True,
        )
        for index in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    # Requests under way at the deadline are answered and counted: time until the last.
    result.seconds = time.perf_counter() - began
    return result


def prime(host: str, port: int, endpoint: Endpoint) -> None:
    """Request each of ``endpoint.prime`` once (answers not checked here: ``check`` and
    the load count errors)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        for path in endpoint.prime:
            conn.request("GET", path, headers={**HEADERS, **endpoint.headers})
            conn.getresponse().read()
    finally:
        conn.close()


def check(host: str, port: int, endpoint: Endpoint) -> None:
    """One request first: a page that fails is reported before any figure."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    path = endpoint.pick(random.Random(0))
    try:
        conn.request("GET", path, headers={**HEADERS, **endpoint.headers})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} : {response.status}\n{body[:500].decode(errors='replace')}")
