"""Pointing Celery at another broker during a test, and back."""

import os
from contextlib import contextmanager

from kombu import pools as kombu_pools

from config.celery import app as celery_app


def drop_broker_pools():
    """Forget pooled broker connections, so the next one is made from the current URL.

    kombu keeps its pools in a global registry: closing one there without clearing the
    registry would leave a closed pool that later tests would get back.
    """
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_url(url):
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration
    # (tests/settings.py sets it), so both must change.
    conf = celery_app.conf
    previous_env = os.environ.get("CELERY_BROKER_URL")
    had_change = "broker_url" in conf.changes
    previous_change = conf.changes.get("broker_url")
    os.environ["CELERY_BROKER_URL"] = url
    conf.broker_url = url
    drop_broker_pools()
    try:
        yield
    finally:
        if previous_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_env
        if had_change:
            conf.changes["broker_url"] = previous_change
        else:
            del conf["broker_url"]
        drop_broker_pools()


@contextmanager
def eager(enabled: bool):
    """Run tasks in the test process (True) or publish them to the broker (False)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = enabled
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
