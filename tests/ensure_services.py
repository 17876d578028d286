"""Make sure PostgreSQL and Redis answer on 127.0.0.1 before the tests run.

This machine kind starts both; elsewhere they are started here with the commands the
machine kind uses, and if they still do not answer the run stops with a clear message.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

from tests import environment

DATABASE_URL = environment.value("DATABASE_URL")
BROKER_URL = environment.value("CELERY_BROKER_URL")


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def start_postgresql() -> None:
    versions = [os.path.basename(path) for path in glob.glob("/etc/postgresql/*")]
    if not versions or not shutil.which("pg_ctlcluster"):
        return
    for version in versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )


def start_redis() -> None:
    if not shutil.which("redis-server"):
        return
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=False,
        capture_output=True,
    )


def wait_for(host: str, port: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return True
        time.sleep(0.3)
    return False


def ensure(name: str, url: str, default_port: int, start) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    if answers(host, port):
        return None
    print(f"{name} does not answer on {host}:{port}: starting it…")
    start()
    if wait_for(host, port):
        return None
    return f"{name} does not answer on {host}:{port} and could not be started."


def check_createdb() -> str | None:
    """pytest-django creates the test database: the role needs CREATEDB."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(DATABASE_URL)
    try:
        with psycopg.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname="postgres",
            connect_timeout=5,
            autocommit=True,
        ) as conn:
            row = conn.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            if row and row[0]:
                # The database itself: `makemigrations --check` reads its migration history.
                name = parsed.path.lstrip("/")
                if (
                    name
                    and not conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                    ).fetchone()
                ):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        return f"Cannot connect to PostgreSQL with {DATABASE_URL}: {error}"
    if not row or not row[0]:
        return "The PostgreSQL role of DATABASE_URL needs CREATEDB to create the test database."
    return None


def main() -> int:
    problems = [
        ensure("PostgreSQL", DATABASE_URL, 5432, start_postgresql),
        ensure("Redis", BROKER_URL, 6379, start_redis),
    ]
    problems = [problem for problem in problems if problem]
    if not problems:
        problems = [problem for problem in [check_createdb()] if problem]
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        print("The tests need PostgreSQL and Redis on 127.0.0.1 (see README).", file=sys.stderr)
        return 1
    print("PostgreSQL and Redis answer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
