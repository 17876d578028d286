"""gunicorn serving the platform (and the bare view) on a free local port."""

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from bench.env import BASE_DIR, OUTPUT_DIR

HOST = "127.0.0.1"


@dataclass
class Server:
    host: str
    port: int
    pid: int
    workers: int
    log: str


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
def gunicorn(env: dict[str, str], *, workers: int = 2, timeout: float = 30):
    port = free_port()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUTPUT_DIR / "gunicorn.log"
    command = [
        *(sys.executable, "-m", "gunicorn", "config.wsgi"),
        *("--workers", str(workers), "--bind", f"{HOST}:{port}"),
        *("--log-level", "warning", "--error-logfile", "-"),
    ]
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
            yield Server(HOST, port, process.pid, workers, str(log_path))
        finally:
            # Only the master we started: it stops its own workers.
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
