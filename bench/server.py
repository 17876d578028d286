"""gunicorn serving the platform (and the bare view) on a free local port."""

import http.client
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.env import BASE_DIR, OUTPUT_DIR
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/bench/bare/")
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
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn ne répond pas ; voir {log_path}")
                time.sleep(0.2)
            yield Server(HOST, port, process.pid, workers, str(log_path), str(access_log or ""))
        finally:
            # Only the master we started: it stops its own workers.
            stop(process, timeout=15)


def service_times(access_log: Path, *, skip: int = 0) -> dict[str, dict]:
    """Per step of the access log (after its first ``skip`` lines): requests, p50/p90/p99
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
            "p99_ms": round(percentile_ms(seconds, 99), 1),
            "total_s": round(sum(seconds), 2),
        }
        for step, seconds in times.items()
    }


def log_lines(access_log: Path) -> int:
    return len(access_log.read_text().splitlines()) if access_log.is_file() else 0
