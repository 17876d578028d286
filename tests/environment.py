"""The services the tests use, in one place: tests/settings.py, tests/ensure_services.py
and the tests that start processes of their own all read them from here.

Values already in the environment win, so CI or a developer can point elsewhere; two
runs with different ``DATABASE_URL`` and ``CELERY_BROKER_URL`` share no database and no
queue.
"""

import os
import socket

DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/aap",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
}


def value(name: str) -> str:
    return os.environ.get(name, DEFAULTS[name])


def apply() -> None:
    for name, default in DEFAULTS.items():
        os.environ.setdefault(name, default)


def closed_port() -> int:
    """A local port where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_cache() -> dict:
    """A Redis cache configuration that refuses every connection at once (a cache that is
    down), with the short timeouts of production."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }
