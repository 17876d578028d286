"""A database that restarts is a 503 « réessayez dans un instant », never a lost receipt.

The restart is real for the request: the server process behind this test's connection is
ended by PostgreSQL itself (``pg_terminate_backend``), as a restart ends every session.
Between requests, Django's connection health checks open a new connection; the test does
that by closing the dead one.
"""

import datetime as dt
import time

import psycopg
import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aap.models import Call
from candidatures.models import Candidature, Receipt
from candidatures.states import CandidatureStatus
from tests.candidatures.conftest import fill
from tests.factories import OrganisationFactory, dossier_ready_call

pytestmark = pytest.mark.django_db(transaction=True)


def end_this_connection():
    """What a PostgreSQL restart does to the connection of this process."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def reconnect():
    """The next request's health check: the dead connection is replaced."""
    connection.close()


@pytest.fixture(autouse=True)
def connection_back(transactional_db):
    """After the test (and before the database is emptied), a live connection again."""
    yield
    reconnect()


@pytest.fixture
def dossier(candidate):
    dossier = Candidature.objects.create(
        call=dossier_ready_call(),
        organisation=OrganisationFactory(members=[candidate]),
        created_by=candidate,
    )
    return fill(dossier, candidate)


def test_a_lost_connection_is_a_503_that_says_to_try_again(client, candidate, dossier):
    client.force_login(candidate)
    client.raise_request_exception = False  # as a browser sees it
    end_this_connection()

    response = client.get(reverse("candidatures:my_dossiers"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "Service momentanément indisponible" in page
    assert "Réessayez dans un instant." in page


def test_a_committed_submission_shows_its_receipt_after_the_restart(client, candidate, dossier):
    client.force_login(candidate)
    client.raise_request_exception = False
    submitted = client.post(reverse("candidatures:submit", args=[dossier.pk]), {"certified": "on"})
    receipt = Receipt.objects.get(candidature=dossier)
    # The proof is in the answer to the submission itself.
    assert submitted.status_code == 200
    assert f"Accusé de réception n° {receipt.number}" in submitted.content.decode()

    end_this_connection()
    assert client.get(reverse("candidatures:dossier", args=[dossier.pk])).status_code == 503

    reconnect()
    mine = client.get(reverse("candidatures:my_dossiers"))
    page = client.get(reverse("candidatures:dossier", args=[dossier.pk]))
    assert mine.status_code == 200, mine.content.decode()[:3000]
    assert page.status_code == 200
    assert f"accusé n° {receipt.number}" in mine.content.decode()
    assert f"Accusé de réception n° {receipt.number}" in page.content.decode()


def test_a_submission_met_by_the_restart_is_run_again_and_keeps_its_instant_of_arrival(
    client, candidate, dossier, settings
):
    """Clicked 0.3 s before the deadline, while PostgreSQL restarts: the request waits for
    the database and runs again after the deadline, judged on its arrival."""
    settings.DATABASE_RETRY_SECONDS = 10
    client.force_login(candidate)
    client.raise_request_exception = False
    deadline = (timezone.now() + dt.timedelta(minutes=5)).replace(microsecond=0)
    Call.objects.filter(pk=dossier.call_id).update(deadline=deadline)
    clicked = deadline - dt.timedelta(milliseconds=300)
    end_this_connection()

    with time_machine.travel(clicked, tick=True):
        response = client.post(
            reverse("candidatures:submit", args=[dossier.pk]), {"certified": "on"}
        )
        handled_by = timezone.now()

    assert handled_by > deadline  # the run that succeeded came after the deadline
    assert response.status_code == 200
    receipt = Receipt.objects.get(candidature=dossier)
    assert clicked <= receipt.submitted_at < deadline
    assert f"Accusé de réception n° {receipt.number}" in response.content.decode()


def test_a_restart_longer_than_the_retries_is_a_503_that_changes_nothing(
    client, candidate, dossier, settings
):
    settings.DATABASE_RETRY_SECONDS = 0
    client.force_login(candidate)
    client.raise_request_exception = False
    url = reverse("candidatures:submit", args=[dossier.pk])
    end_this_connection()

    cut = client.post(url, {"certified": "on"})

    assert cut.status_code == 503
    reconnect()
    dossier.refresh_from_db()
    assert dossier.status == CandidatureStatus.DRAFT
    assert not Receipt.objects.exists()
    again = client.post(url, {"certified": "on"})
    assert again.status_code == 200
    assert Receipt.objects.filter(candidature=dossier).count() == 1


def test_other_pages_are_not_run_again(client, candidate, dossier, settings):
    """Only views that may run twice are retried: the others answer 503 at once."""
    settings.DATABASE_RETRY_SECONDS = 10
    client.force_login(candidate)
    client.raise_request_exception = False
    end_this_connection()

    started = time.monotonic()
    response = client.get(reverse("candidatures:my_dossiers"))

    assert response.status_code == 503
    assert time.monotonic() - started < 1  # answered at once, not after retries
