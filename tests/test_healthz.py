"""/healthz answers for load balancers and compose health checks, against the real services.

PostgreSQL and Redis run on this machine; the failures are real too: the broker or the
database is pointed at a port where nothing listens.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.celery import app as celery_app
from tests.celery_utils import broker_url

BASE_DIR = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A local port where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_down():
    port = closed_port()
    with broker_url(f"redis://127.0.0.1:{port}/0"):
        yield port


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": True, "broker": True}


@pytest.mark.django_db
def test_healthz_needs_no_login(client):
    response = client.get("/healthz", follow=False)

    assert response.status_code == 200  # not a redirect to the login page
    assert "/compte/connexion/" not in response.get("Location", "")


@pytest.mark.django_db
def test_healthz_reports_a_closed_broker_quickly(client, broker_down):
    # The pooled connection is the new one, not one kept from the real broker.
    with celery_app.pool.acquire(block=False) as connection:
        assert f":{broker_down}/" in connection.as_uri()

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": True, "broker": False}
    assert elapsed < 5, f"the broker check took {elapsed:.1f} s"


@pytest.mark.django_db
def test_healthz_recovers_when_the_broker_is_back(client):
    with broker_url(f"redis://127.0.0.1:{closed_port()}/0"):
        assert client.get("/healthz").status_code == 503

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] is True


HEALTHZ_IN_A_FRESH_PROCESS = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status_code": response.status_code, "body": response.json()}))
"""


def test_healthz_reports_a_database_that_does_not_answer():
    # A fresh process, because this one's connection is the test database's.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/aap",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", HEALTHZ_IN_A_FRESH_PROCESS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {
        "status_code": 503,
        "body": {"status": "error", "database": False, "broker": True},
    }
    assert elapsed < 20, f"the database check took {elapsed:.1f} s"
