"""Where the benchmark runs: its database, its settings (all from the environment)."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = BASE_DIR / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aap_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/14"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/13"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL)
CACHE_URL = os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL)
# The variables the bench reads, for its --help: name, what for, default.
VARIABLES = [
    (
        "BENCH_DATABASE_URL",
        "la base PostgreSQL du bench, créée si elle manque ; « sweep » crée à côté "
        "<nom>_sweep_<taille>",
        DEFAULT_DATABASE_URL,
    ),
    (
        "BENCH_BROKER_URL",
        "la base Redis où les tâches Celery attendent, vidée après chaque scénario",
        DEFAULT_BROKER_URL,
    ),
    (
        "BENCH_CACHE_URL",
        "la base Redis du cache, vidée avant : partagé par les workers qui servent les "
        "pages (comme en production dès qu'il y a plusieurs processus) et par les deux "
        "instances de « topology »",
        DEFAULT_CACHE_URL,
    ),
    (
        "BENCH_PORTS",
        "plage des ports que le bench ouvre sur 127.0.0.1 (gunicorn, nginx, Redis et "
        "serveur SMTP de « deadline », etc.), par exemple 20000-20999",
        "des ports libres choisis par le système",
    ),
]


def parse_ports(value: str) -> range | None:
    """``"20000-20999"`` → the ports from 20000 to 20999; ``""`` → None (any free port)."""
    value = value.strip()
    if not value:
        return None
    low, dash, high = value.partition("-")
    try:
        first, last = int(low), int(high if dash else low)
    except ValueError:
        raise ValueError(f"BENCH_PORTS : « {value} » n'est pas une plage (20000-20999)") from None
    if not 1024 <= first <= last <= 65535:
        raise ValueError(f"BENCH_PORTS : « {value} » hors de 1024-65535 ou à l'envers")
    return range(first, last + 1)


PORTS = parse_ports(os.environ.get("BENCH_PORTS", ""))


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def where() -> str:
    """The database, the broker and the ports the bench uses, passwords masked."""
    ports = f"{PORTS.start}-{PORTS.stop - 1}" if PORTS else "choisis par le système"
    return f"base {masked(DATABASE_URL)} ; courtier {masked(BROKER_URL)} ; ports {ports}"


def environment(database_url: str = DATABASE_URL) -> dict[str, str]:
    """Settings as in production (DEBUG off, PostgreSQL, Redis), plain static storage.

    No e-mail leaves the machine and no Celery worker is needed: tasks are queued in
    ``BROKER_URL``'s Redis database (``flush_broker`` empties it) and the mail backend is
    the dummy one.
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
