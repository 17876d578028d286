"""The services the tests use, in one place: tests/settings.py, tests/ensure_services.py
and the tests that start processes of their own all read them from here.

Values already in the environment win, so CI or a developer can point elsewhere; two
runs with different ``DATABASE_URL`` and ``CELERY_BROKER_URL`` share no database and no
queue.
"""

import os

DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/aap",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
}


def value(name: str) -> str:
    return os.environ.get(name, DEFAULTS[name])


def apply() -> None:
    for name, default in DEFAULTS.items():
        os.environ.setdefault(name, default)
