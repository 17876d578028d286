"""/healthz (liveness) and /readyz (readiness) against the real services.

PostgreSQL, Redis and a clamd (tests/clamd.py) run on this machine; the failures are real
too: a service is pointed at a port or a socket where nothing listens.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.celery import app as celery_app
from tests import environment
from tests.celery_utils import broker_url

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker_down():
    port = environment.closed_port()
    with broker_url(f"redis://127.0.0.1:{port}/0"):
        yield port


@pytest.fixture
def clamav(settings, clamd_socket):
    settings.CLAMD_URL = f"unix://{clamd_socket}"
    return clamd_socket


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_need_no_login(client, path):
    response = client.get(path, follow=False)

    assert response.status_code == 200  # not a redirect to the login page
    assert "/compte/connexion/" not in response.get("Location", "")


@pytest.mark.django_db
def test_healthz_stays_ok_when_the_broker_is_down_and_readyz_reports_it(client, broker_down):
    """A broker outage must not take web servers out of service: the outbox keeps the
    e-mails. Liveness stays 200; readiness says the broker is degraded."""
    # The pooled connection is the new one, not one kept from the real broker.
    with celery_app.pool.acquire(block=False) as connection:
        assert f":{broker_down}/" in connection.as_uri()

    live = client.get("/healthz")
    started = time.monotonic()
    ready = client.get("/readyz")
    elapsed = time.monotonic() - started

    assert live.status_code == 200
    assert live.json() == {"status": "ok", "database": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "unavailable", "antivirus": "not_configured"},
    }
    assert elapsed < 5, f"the broker check took {elapsed:.1f} s"


@pytest.mark.django_db
def test_readyz_is_ok_when_everything_answers(client, clamav):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "antivirus": "ok"},
    }


@pytest.mark.django_db
def test_readyz_reports_an_antivirus_that_does_not_answer(client, settings, tmp_path):
    settings.CLAMD_URL = f"unix://{tmp_path / 'no-clamd.sock'}"

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["antivirus"] == "unavailable"


@pytest.mark.django_db
def test_readyz_recovers_when_the_broker_is_back(client):
    with broker_url(f"redis://127.0.0.1:{environment.closed_port()}/0"):
        assert client.get("/readyz").json()["status"] == "degraded"

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


HEALTH_IN_A_FRESH_PROCESS = """
import json, django
django.setup()
from django.test import Client
answers = {}
for path in ("/healthz", "/readyz"):
    response = Client().get(path)
    answers[path] = {"status_code": response.status_code, "body": response.json()}
print(json.dumps(answers))
"""


def test_both_report_a_database_that_does_not_answer():
    # A fresh process, because this one's connection is the test database's.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{environment.closed_port()}/aap",
        "CLAMD_URL": "",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", HEALTH_IN_A_FRESH_PROCESS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers == {
        "/healthz": {"status_code": 503, "body": {"status": "error", "database": "unavailable"}},
        "/readyz": {
            "status_code": 503,
            "body": {
                "status": "unavailable",
                "checks": {
                    "database": "unavailable",
                    "broker": "ok",
                    "antivirus": "not_configured",
                },
            },
        },
    }
    assert elapsed < 20, f"the database check took {elapsed:.1f} s"
