"""Child processes the tests and the bench start (clamd, nginx, gunicorn, a worker)."""

import subprocess


def stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Terminate ``process`` and wait for it; kill it if it outlives ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
