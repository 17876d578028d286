"""gunicorn serving the platform (and the bare view) on a free local port, and the free
ports of every server the bench starts (within ``BENCH_PORTS`` when it is set)."""

import http.client
import os
import random
import socket
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.env import BASE_DIR, OUTPUT_DIR, PORTS
from bench.load import percentile_ms
from tests.processes import stop

HOST = "127.0.0.1"


@dataclass
class Server:
    host: str
    port: int
    pid: int
    workers: int
    log: str
    access_log: str = ""


def worker_shape() -> str:
    """gunicorn's worker class (and threads) as gunicorn.conf.py reads them from the
    environment: « sync », or « gthread × 4 »."""
    worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
    threads = int(os.environ.get("GUNICORN_THREADS", "1"))
    return worker_class if threads == 1 else f"{worker_class} × {threads} threads"


# Ports this process handed out: the caller binds later, so the next call must not give
# the same one again while it is still free.
_handed_out: set[int] = set()


def free_port(ports: range | None = None) -> int:
    """A port free on ``HOST``: within ``ports`` (by default ``BENCH_PORTS``, bench/env.py),
    each at most once per process, or any port the system picks when no range is set."""
    ports = PORTS if ports is None else ports
    if not ports:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            return sock.getsockname()[1]
    start = random.randrange(len(ports))  # two benches sharing a range seldom collide
    for offset in range(len(ports)):
        port = ports[(start + offset) % len(ports)]
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(
        f"BENCH_PORTS : aucun port libre entre {ports.start} et {ports.stop - 1} "
        f"({len(_handed_out & set(ports))} déjà pris par ce bench)"
    )


def answers(port: int, path: str = "/bench/bare/") -> bool:
    """Whether the server on ``port`` answers ``path`` with a 200 (the bare view, or
    ``/healthz`` behind which the database is checked)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int = 2, timeout: float = 30, access_log: Path | None = None
):
    """Serve on a free port; with ``access_log``, each request's step (the X-Bench-Step
    header), status and time spent in the worker, in microseconds, go to that file."""
    port = free_port()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUTPUT_DIR / "gunicorn.log"
    command = [
        *(sys.executable, "-m", "gunicorn", "config.wsgi"),
        *("--workers", str(workers), "--bind", f"{HOST}:{port}"),
        *("--log-level", "warning", "--error-logfile", "-"),
    ]
    if access_log is not None:
        access_log.unlink(missing_ok=True)
        command += ["--access-logfile", str(access_log)]
        command += ["--access-logformat", "%({x-bench-step}i)s %(s)s %(D)s"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env={**os.environ, **env}, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + timeout
            while not answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn ne répond pas ; voir {log_path}")
                time.sleep(0.2)
            yield Server(HOST, port, process.pid, workers, str(log_path), str(access_log or ""))
        finally:
            # Only the master we started: it stops its own workers.
            stop(process, timeout=15)


def service_times(access_log: Path, *, skip: int = 0) -> dict[str, dict]:
    """Per step of the access log (after its first ``skip`` lines): requests, p50/p90/p95/p99
    of the time in the worker (ms), and the worker time they took in all (s)."""
    times = defaultdict(list)
    for line in access_log.read_text().splitlines()[skip:]:
        step, _status, micros = line.rsplit(" ", 2)
        if step and step != "-":
            times[step].append(int(micros) / 1e6)
    return {
        step: {
            "requests": len(seconds),
            "p50_ms": round(percentile_ms(seconds, 50), 1),
            "p90_ms": round(percentile_ms(seconds, 90), 1),
            "p95_ms": round(percentile_ms(seconds, 95), 1),
            "p99_ms": round(percentile_ms(seconds, 99), 1),
            "total_s": round(sum(seconds), 2),
        }
        for step, seconds in times.items()
    }


def log_lines(access_log: Path) -> int:
    return len(access_log.read_text().splitlines()) if access_log.is_file() else 0


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name (which may hold spaces):
    the parent's pid is the second, utime and stime the twelfth and thirteenth."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the processes whose parent is the master."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = _stat(int(name))
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == master:
            pids.append(int(name))
    return sorted(pids)


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by a server's master and its workers, read in
    /proc: measured before and after a load, it gives the CPU time per request."""
    total = 0
    for pid in [master, *worker_pids(master)]:
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")
