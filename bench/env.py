"""Where the benchmark runs: its database, its settings (all from the environment)."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = BASE_DIR / "var" / "bench"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aap_bench")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")


def environment(database_url: str = DATABASE_URL) -> dict[str, str]:
    """Settings as in production (DEBUG off, PostgreSQL, Redis), plain static storage.

    No e-mail leaves the machine and no Celery worker is needed: tasks are queued in
    Redis database 14 (``flush_broker`` empties it) and the mail backend is the dummy one.
    """
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "b" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": "dummymail://",
        # Uploads of the rush land here, never among the development server's files; the
        # temporary folder is on the same file system, so a stored upload is a rename.
        "PRIVATE_MEDIA_ROOT": str(OUTPUT_DIR / "private"),
        "FILE_UPLOAD_TEMP_DIR": str(OUTPUT_DIR / "tmp"),
        "ROOT_URLCONF": "bench.urls",
        # An empty folder: WhiteNoise warns at start-up when STATIC_ROOT is missing, and
        # the bench requests pages only, never static files.
        "STATIC_ROOT": str(OUTPUT_DIR / "static"),
        # Axes logs every login at INFO; the bench logs in an instructeur to count queries.
        "LOG_LEVEL": "WARNING",
    }


def prepare_folders() -> None:
    for name in ("static", "private", "tmp"):
        (OUTPUT_DIR / name).mkdir(parents=True, exist_ok=True)


def flush_broker(url: str = BROKER_URL) -> int:
    """Drop the tasks the platform queued (e-mails of receipts): nobody consumes them
    here. Returns how many tasks waited in Celery's default queue."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        queued = client.llen("celery")
        client.flushdb()
    finally:
        client.close()
    return queued


def ensure_database(database_url: str = DATABASE_URL) -> bool:
    """Create the bench database if it is missing; True when it was created."""
    params = conninfo_to_dict(database_url)
    name = params.pop("dbname")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return not exists


def migrate(env: dict[str, str]) -> None:
    """``manage.py migrate`` in a subprocess, so this process sets Django up only once."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"manage.py migrate a échoué :\n{result.stdout}{result.stderr}")
