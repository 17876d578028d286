"""Whoever clicks « Déposer » before 17:00:00 is on time: the deadline is judged on the
instant the request arrived at the proxy, not on the instant a worker took it.

The first tests go through Django's middleware with a stamp as nginx writes it; the last
one goes through the real nginx of deploy/nginx/ in front of the live server, with a body
sent slowly across the deadline.
"""

import datetime as dt
import http.client
import os
import re
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from candidatures.models import Candidature, Receipt
from candidatures.receipts import receipt_pdf
from candidatures.states import CandidatureStatus
from core import arrival
from tests.candidatures.conftest import fill
from tests.factories import OrganisationFactory, dossier_ready_call
from tests.nginx import find_nginx, nginx_proxy
from tests.pdf import pdf_text

PARIS = ZoneInfo("Europe/Paris")
DEADLINE = dt.datetime(2030, 9, 17, 17, 0, tzinfo=PARIS)
PROXY = "10.0.0.5"


def stamp(instant: dt.datetime, *, reading: float | None = None) -> str:
    """The header as deploy/nginx/proxy_pass.conf writes it."""
    handed_on = instant.timestamp() + (reading or 0)
    value = f"t={handed_on:.3f}"
    return value if reading is None else f"{value} d={reading:.3f}"


@pytest.fixture
def at_deadline(complete_dossier, settings):
    settings.ARRIVAL_TRUSTED_PROXIES = [f"{PROXY}/32", "192.0.2.0/24"]
    call = complete_dossier.call
    call.deadline = DEADLINE
    call.save()
    return complete_dossier


def submit(client, dossier, **meta):
    """Log in and submit, at the instant the clock reads (a session of 2026 would have
    expired in 2030)."""
    client.force_login(dossier.created_by)
    return client.post(
        reverse("candidatures:submit", args=[dossier.pk]), {"certified": "on"}, **meta
    )


def test_a_request_stamped_before_the_deadline_and_handled_after_it_is_on_time(
    at_deadline, candidate, client
):
    clicked = DEADLINE - dt.timedelta(milliseconds=100)  # 16:59:59.900

    with time_machine.travel(DEADLINE + dt.timedelta(seconds=3), tick=False):  # 17:00:03
        response = submit(
            client, at_deadline, REMOTE_ADDR=PROXY, HTTP_X_REQUEST_START=stamp(clicked)
        )

    assert response.status_code == 200
    receipt = Receipt.objects.get(candidature=at_deadline)
    assert receipt.submitted_at == clicked
    page = response.content.decode()
    assert f"Accusé de réception n° {receipt.number}" in page
    assert "17 septembre 2030 à 16h59 et 59 s" in page
    assert "17 septembre 2030 à 16h59 et 59 s" in pdf_text(receipt_pdf(receipt.pk))
    at_deadline.refresh_from_db()
    assert at_deadline.status == CandidatureStatus.SUBMITTED
    assert at_deadline.submitted_at == clicked


def test_the_time_nginx_spent_reading_the_request_counts_before_it(at_deadline, candidate, client):
    # nginx handed the request on at 17:00:00.400 after reading it for 0.6 s.
    header = stamp(DEADLINE - dt.timedelta(milliseconds=200), reading=0.6)
    assert header.endswith(" d=0.600")

    with time_machine.travel(DEADLINE + dt.timedelta(seconds=2), tick=False):
        response = submit(
            client, at_deadline, REMOTE_ADDR="192.0.2.44", HTTP_X_REQUEST_START=header
        )

    assert response.status_code == 200
    receipt = Receipt.objects.get(candidature=at_deadline)
    assert receipt.submitted_at == DEADLINE - dt.timedelta(milliseconds=200)


def test_a_stamp_from_an_untrusted_address_is_ignored(at_deadline, candidate, client):
    clicked = DEADLINE - dt.timedelta(milliseconds=100)

    with time_machine.travel(DEADLINE + dt.timedelta(seconds=3), tick=False):
        response = submit(
            client, at_deadline, REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_START=stamp(clicked)
        )

    assert response.status_code == 409
    assert "La date limite de réception des dossiers (17 septembre 2030 à 17h00) est passée" in (
        response.content.decode()
    )
    assert not Receipt.objects.exists()
    at_deadline.refresh_from_db()
    assert at_deadline.status == CandidatureStatus.DRAFT


def test_without_a_proxy_the_start_of_the_request_counts(at_deadline, candidate, client, settings):
    settings.ARRIVAL_TRUSTED_PROXIES = []

    with time_machine.travel(DEADLINE + dt.timedelta(seconds=1), tick=False):
        response = submit(
            client,
            at_deadline,
            REMOTE_ADDR=PROXY,
            HTTP_X_REQUEST_START=stamp(DEADLINE - dt.timedelta(seconds=5)),
        )

    assert response.status_code == 409
    assert not Receipt.objects.exists()


def test_a_stamp_ahead_of_the_server_clock_counts_as_the_start(at_deadline, candidate, client):
    """A proxy whose clock runs ahead cannot make a late request look early, nor an early
    one look late: a request cannot arrive after it is handled."""
    handled = DEADLINE - dt.timedelta(seconds=1)

    with time_machine.travel(handled, tick=False):
        response = submit(
            client,
            at_deadline,
            REMOTE_ADDR=PROXY,
            HTTP_X_REQUEST_START=stamp(DEADLINE + dt.timedelta(seconds=30)),
        )

    assert response.status_code == 200
    assert Receipt.objects.get().submitted_at == handled


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("t=1726585199.900", dt.datetime(2024, 9, 17, 14, 59, 59, 900_000, tzinfo=dt.UTC)),
        ("t=1726585199900", dt.datetime(2024, 9, 17, 14, 59, 59, 900_000, tzinfo=dt.UTC)),
        ("t=1726585199900000", dt.datetime(2024, 9, 17, 14, 59, 59, 900_000, tzinfo=dt.UTC)),
        ("1726585199", dt.datetime(2024, 9, 17, 14, 59, 59, tzinfo=dt.UTC)),
        ("t=1726585200.400 d=0.500", dt.datetime(2024, 9, 17, 14, 59, 59, 900_000, tzinfo=dt.UTC)),
        ("", None),
        ("t=", None),
        ("t=abc", None),
        ("t=-5", None),
        ("t=1726585199.900; drop table", None),
    ],
)
def test_stamps_are_read_in_seconds_milliseconds_or_microseconds(header, expected):
    parsed = arrival.parse_stamp(header)
    if expected is None:
        assert parsed is None
    else:
        assert abs(parsed - expected) < dt.timedelta(microseconds=5)


def test_an_unreadable_or_too_old_stamp_is_not_believed(settings, caplog):
    settings.ARRIVAL_TRUSTED_PROXIES = [PROXY]
    started = DEADLINE + dt.timedelta(seconds=2)
    meta = {"REMOTE_ADDR": PROXY}

    unreadable = arrival.received_at({**meta, settings.ARRIVAL_META_KEY: "hier"}, started=started)
    too_old = arrival.received_at(
        {**meta, settings.ARRIVAL_META_KEY: stamp(started - dt.timedelta(hours=2))},
        started=started,
    )

    assert unreadable == started and too_old == started
    assert "Unreadable arrival stamp" in caplog.text
    assert "older than the longest wait" in caplog.text


def test_a_wrong_proxy_address_stops_the_start_up():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ARRIVAL_TRUSTED_PROXIES": "10.0.0.5,proxy.isere.fr",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ARRIVAL_TRUSTED_PROXIES : « proxy.isere.fr » n'est ni une adresse IP ni un réseau." in (
        result.stderr
    )


# --- Through the real nginx --------------------------------------------------------------


def _csrf_and_cookies(port, path, session_cookie):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Cookie": session_cookie})
    response = connection.getresponse()
    body = response.read().decode()
    assert response.status == 200, body[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    cookies = [session_cookie] + [
        value.split(";", 1)[0]
        for name, value in response.getheaders()
        if name.lower() == "set-cookie" and value.startswith("csrftoken=")
    ]
    connection.close()
    return token, "; ".join(cookies)


def _post_slowly(port, path, body: bytes, cookies: str, *, seconds: float):
    """POST ``body`` a byte at a time over ``seconds``, as a slow connection would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Cookie", cookies)
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    pause = seconds / len(body)
    for byte in body:
        connection.send(bytes([byte]))
        time.sleep(pause)
    last_byte_sent = timezone.now()
    response = connection.getresponse()
    content = response.read().decode()
    connection.close()
    return response.status, content, last_byte_sent


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trusted", [True, False], ids=["trusted_proxy", "untrusted_proxy"])
def test_through_nginx_a_click_before_the_deadline_is_on_time_however_slow_the_body(
    trusted, live_server, settings, candidate, client
):
    if find_nginx() is None:
        pytest.skip("nginx is not installed (make test installs nginx-light)")
    call = dossier_ready_call()
    organisation = OrganisationFactory(members=[candidate])
    dossier = fill(
        Candidature.objects.create(call=call, organisation=organisation, created_by=candidate),
        candidate,
    )
    settings.ARRIVAL_TRUSTED_PROXIES = ["127.0.0.1"] if trusted else []
    client.force_login(candidate)
    session_cookie = (
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    )
    path = reverse("candidatures:submit", args=[dossier.pk])
    upstream = live_server.url.removeprefix("http://")

    with nginx_proxy(upstream) as port:
        token, cookies = _csrf_and_cookies(port, path, session_cookie)
        # The deadline is the second after next: the click comes more than a second before
        # it, and the body, sent slowly, ends more than a second after it.
        clicked = timezone.now()
        deadline = clicked.replace(microsecond=0) + dt.timedelta(seconds=2)
        type(dossier.call).objects.filter(pk=dossier.call_id).update(deadline=deadline)
        body = f"csrfmiddlewaretoken={token}&certified=on".encode()
        status, content, last_byte = _post_slowly(port, path, body, cookies, seconds=3.5)

    assert last_byte > deadline + dt.timedelta(seconds=1)
    if trusted:
        assert status == 200, content[:2000]
        receipt = Receipt.objects.get(candidature=dossier)
        # The instant of the first byte at nginx, not of the worker's start.
        assert clicked - dt.timedelta(seconds=1) < receipt.submitted_at < deadline
        assert f"Accusé de réception n° {receipt.number}" in content
    else:
        assert status == 409, content[:2000]
        assert "est passée" in content
        assert not Receipt.objects.filter(candidature=dossier).exists()
