"""Throttles by client address as well as by account: logins across accounts, sign-ups,
password-reset e-mails (per address and per client) and questions; the refusal in French
with its wait, nothing stored; windows that end; counters shared through Redis; a cache
that is down lets people through."""

import datetime as dt
import html
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.urls import reverse

from aap.models import CallQuestion
from core import throttle
from core.client_ip import client_ip
from core.models import OutgoingEmail, User
from core.roles import Role
from tests import environment
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOGIN_URL = reverse("accounts:login")
SIGNUP_URL = reverse("accounts:signup")
RESET_URL = reverse("accounts:password_reset")
# One minute into a quarter-hour and into an hour: windows of 15 minutes end 14 minutes
# later, windows of an hour 59 minutes later.
INSTANT = dt.datetime(2024, 3, 12, 10, 1, tzinfo=dt.UTC)
HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"
PROXY = "10.0.0.2"
WRONG = "pas-le-bon-mot-de-passe"

TOO_MANY_LOGINS = (
    "Trop de tentatives de connexion depuis cette connexion internet. "
    "Par sécurité, réessayez dans {wait}."
)
TOO_MANY_SIGNUPS = (
    "Trop de comptes créés depuis cette connexion internet : votre compte n'est pas créé. "
    "Réessayez dans {wait}."
)
TOO_MANY_RESETS = (
    "Trop de demandes pour cette adresse ou depuis cette connexion internet : aucun nouveau "
    "message n'est envoyé. Un lien reçu dans les dernières 24 heures reste valable. "
    "Réessayez dans {wait}."
)
TOO_MANY_QUESTIONS = (
    "Trop de questions envoyées en peu de temps depuis ce compte ou cette connexion internet : "
    "votre question n'est pas enregistrée. Réessayez dans {wait}."
)


@pytest.fixture(autouse=True)
def at_a_fixed_instant(time_machine):
    time_machine.move_to(INSTANT, tick=False)


def limit(settings, **rates):
    settings.THROTTLES = {**settings.THROTTLES, **rates}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def log_in(client, email, password=PASSWORD, ip=HOME, **meta):
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip, **meta)


def logged_in_id(client):
    return client.session.get(SESSION_KEY)


def sign_up(client, email, ip=HOME):
    data = {
        "first_name": "Sacha",
        "last_name": "Martin",
        "email": email,
        "password1": "Une-phrase-de-passe-solide",
        "password2": "Une-phrase-de-passe-solide",
        "accept_terms": "on",
    }
    return client.post(SIGNUP_URL, data, REMOTE_ADDR=ip)


def ask_reset(client, email, ip=HOME):
    return client.post(RESET_URL, {"email": email}, REMOTE_ADDR=ip)


def assert_refused(response, message, retry_after):
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    assert message in page_text(response)


# --- Logins per client address, across accounts --------------------------------------------------


def test_failed_logins_from_one_address_are_refused_across_accounts(
    client, candidate, other_candidate, settings
):
    limit(settings, login_ip=(3, 900))
    for email in ["inconnu@exemple.test", other_candidate.email, "autre@exemple.test"]:
        failed = log_in(client, email, WRONG)
        assert failed.status_code == 200
        assert "Adresse électronique ou mot de passe incorrect." in page_text(failed)

    refused = log_in(client, candidate.email, PASSWORD)

    assert_refused(refused, TOO_MANY_LOGINS.format(wait="14 minutes"), 14 * 60)
    assert logged_in_id(client) is None
    # The password was not even checked: axes saw nothing for this account.
    assert not AccessAttempt.objects.filter(username=candidate.email).exists()
    assert refused.context["form"]["username"].value() == candidate.email
    elsewhere = log_in(Client(), candidate.email, PASSWORD, ip=ELSEWHERE)
    assert elsewhere.status_code == 302
    assert elsewhere.url == reverse("accounts:home")


def test_successful_logins_do_not_use_up_the_limit(client, candidate, settings):
    limit(settings, login_ip=(2, 900))
    for _login in range(5):
        assert log_in(client, candidate.email).status_code == 302
        client.logout()

    log_in(client, candidate.email, WRONG)
    log_in(client, "inconnu@exemple.test", WRONG)

    assert log_in(client, candidate.email).status_code == 429


def test_the_login_limit_ends_with_its_window(client, candidate, settings, time_machine):
    limit(settings, login_ip=(2, 900))
    log_in(client, "inconnu@exemple.test", WRONG)
    log_in(client, "autre@exemple.test", WRONG)

    time_machine.shift(dt.timedelta(minutes=13, seconds=30))
    still_refused = log_in(client, candidate.email)
    assert_refused(still_refused, TOO_MANY_LOGINS.format(wait="1 minute"), 30)

    time_machine.shift(dt.timedelta(seconds=30))  # 10:15:00, a new window
    assert log_in(client, candidate.email).status_code == 302
    assert logged_in_id(client) == str(candidate.pk)


def test_an_ipv6_client_is_counted_by_its_64_prefix(client, candidate, settings):
    limit(settings, login_ip=(2, 900))
    log_in(client, "inconnu@exemple.test", WRONG, ip="2001:db8:1:2::1")
    log_in(client, "autre@exemple.test", WRONG, ip="2001:db8:1:2::ffff")

    assert log_in(client, candidate.email, ip="2001:db8:1:2:abcd::9").status_code == 429
    assert log_in(client, candidate.email, ip="2001:db8:1:3::1").status_code == 302


# --- The client's address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # Not a trusted proxy: its header is the client's own writing.
        (HOME, "192.0.2.99", HOME),
        # The documented proxy: the address it appended, not what the client wrote before.
        (PROXY, f"192.0.2.99, {HOME}", HOME),
        # Two trusted proxies in a row.
        (PROXY, f"192.0.2.99, {HOME}, 10.0.0.3", HOME),
        (PROXY, "", PROXY),
        (PROXY, "n'importe quoi", PROXY),
        (PROXY, f"::ffff:{HOME}", HOME),
        (f"::ffff:{HOME}", "", HOME),
    ],
)
def test_the_client_address_is_read_from_trusted_proxies_only(
    settings, remote, forwarded, expected
):
    settings.ARRIVAL_TRUSTED_PROXIES = [PROXY, "10.0.0.3"]
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_behind_the_proxy_each_client_has_its_own_count_and_axes_sees_it(
    client, candidate, settings
):
    settings.ARRIVAL_TRUSTED_PROXIES = [PROXY]
    limit(settings, login_ip=(2, 900))
    for forged in ["192.0.2.1", "192.0.2.2"]:
        log_in(client, candidate.email, WRONG, ip=PROXY, HTTP_X_FORWARDED_FOR=f"{forged}, {HOME}")

    refused = log_in(client, candidate.email, ip=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.3, {HOME}")
    other_client = log_in(Client(), candidate.email, ip=PROXY, HTTP_X_FORWARDED_FOR=ELSEWHERE)

    assert refused.status_code == 429
    assert other_client.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {HOME}


def test_a_forged_forwarded_header_does_not_escape_the_limit(client, candidate, settings):
    limit(settings, login_ip=(2, 900))
    for forged in ["192.0.2.1", "192.0.2.2"]:
        log_in(client, "inconnu@exemple.test", WRONG, HTTP_X_FORWARDED_FOR=forged)

    refused = log_in(client, candidate.email, HTTP_X_FORWARDED_FOR="192.0.2.3")

    assert refused.status_code == 429


# --- Sign-ups per client address --------------------------------------------------------------


def test_sign_ups_from_one_address_are_refused_after_the_limit_and_create_nothing(client, settings):
    limit(settings, signup_ip=(2, 3600))
    for email in ["un@asso-exemple.test", "deux@asso-exemple.test"]:
        assert sign_up(client, email).status_code == 302
    emails_before = OutgoingEmail.objects.count()

    refused = sign_up(client, "trois@asso-exemple.test")

    assert_refused(refused, TOO_MANY_SIGNUPS.format(wait="59 minutes"), 59 * 60)
    assert not User.objects.filter(email="trois@asso-exemple.test").exists()
    assert OutgoingEmail.objects.count() == emails_before
    assert refused.context["form"]["email"].value() == "trois@asso-exemple.test"
    assert sign_up(Client(), "trois@asso-exemple.test", ip=ELSEWHERE).status_code == 302
    assert User.objects.filter(email="trois@asso-exemple.test").exists()


# --- Password-reset e-mails, per address and per client address ---------------------------------


def test_reset_emails_for_one_address_are_limited_whatever_the_client(client, candidate, settings):
    limit(settings, password_reset_address=(2, 3600), password_reset_ip=(100, 3600))
    assert ask_reset(client, candidate.email, ip="192.0.2.1").status_code == 302
    assert ask_reset(Client(), "CAMILLE@epci-exemple.test", ip="192.0.2.2").status_code == 302
    assert OutgoingEmail.objects.filter(template="password_reset").count() == 2

    refused = ask_reset(Client(), candidate.email, ip="192.0.2.3")

    assert_refused(refused, TOO_MANY_RESETS.format(wait="59 minutes"), 59 * 60)
    assert OutgoingEmail.objects.filter(template="password_reset").count() == 2


def test_a_refused_reset_tells_nothing_about_accounts(client, candidate, settings):
    limit(settings, password_reset_address=(1, 3600), password_reset_ip=(100, 3600))
    pages = {}
    for email in [candidate.email, "personne@nulle-part.test"]:
        assert ask_reset(Client(), email, ip="192.0.2.1").status_code == 302
        pages[email] = ask_reset(Client(), email, ip="192.0.2.2")

    known, unknown = pages.values()
    assert (known.status_code, known["Retry-After"]) == (
        unknown.status_code,
        unknown["Retry-After"],
    )
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert without_token(known).replace(candidate.email, "personne@nulle-part.test") == (
        without_token(unknown)
    )


def without_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page_text(response))


def test_reset_emails_from_one_client_are_limited_across_addresses(
    client, candidate, other_candidate, settings
):
    limit(settings, password_reset_address=(100, 3600), password_reset_ip=(2, 3600))
    third = UserFactory(email="troisieme@exemple.test", roles=[Role.CANDIDAT])
    assert ask_reset(client, candidate.email).status_code == 302
    assert ask_reset(client, other_candidate.email).status_code == 302

    refused = ask_reset(client, third.email)

    assert_refused(refused, TOO_MANY_RESETS.format(wait="59 minutes"), 59 * 60)
    assert not OutgoingEmail.objects.filter(to__contains=[third.email]).exists()
    assert ask_reset(Client(), third.email, ip=ELSEWHERE).status_code == 302
    assert OutgoingEmail.objects.filter(template="password_reset").count() == 3


# --- Questions per account and per client address ---------------------------------------------


def ask(client, call, text, ip=HOME):
    return client.post(
        reverse("aap:ask_question", args=[call.slug]), {"question": text}, REMOTE_ADDR=ip
    )


def test_questions_from_one_account_are_limited_and_a_refused_one_is_not_stored(
    open_call, candidate, instructeur, client_for, settings
):
    limit(settings, question_user=(2, 3600), question_ip=(100, 3600))
    client = client_for(candidate)
    for number, ip in [(1, HOME), (2, ELSEWHERE)]:
        assert ask(client, open_call, f"Question {number} ?", ip=ip).status_code == 302
    emails_before = OutgoingEmail.objects.count()

    refused = ask(client, open_call, "Une troisième question ?", ip="192.0.2.1")

    assert_refused(refused, TOO_MANY_QUESTIONS.format(wait="59 minutes"), 59 * 60)
    assert "Une troisième question ?" in page_text(refused)  # kept in the form
    assert CallQuestion.objects.count() == 2
    assert OutgoingEmail.objects.count() == emails_before


def test_questions_from_one_client_address_are_limited_across_accounts(
    open_call, candidate, other_candidate, instructeur, client_for, settings
):
    limit(settings, question_user=(100, 3600), question_ip=(2, 3600))
    client = client_for(candidate)
    assert ask(client, open_call, "Première ?").status_code == 302
    assert ask(client, open_call, "Deuxième ?").status_code == 302

    client = client_for(other_candidate)
    refused = ask(client, open_call, "Troisième ?")

    assert_refused(refused, TOO_MANY_QUESTIONS.format(wait="59 minutes"), 59 * 60)
    assert ask(client, open_call, "Troisième ?", ip=ELSEWHERE).status_code == 302
    assert list(CallQuestion.objects.order_by("pk").values_list("question", flat=True)) == [
        "Première ?",
        "Deuxième ?",
        "Troisième ?",
    ]


# --- The counters and their cache -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 minute"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (840, "14 minutes"),
        (3600, "1 heure"),
        (3660, "1 heure et 1 minute"),
        (7500, "2 heures et 5 minutes"),
    ],
)
def test_the_wait_is_said_in_french_and_never_shorter(seconds, text):
    assert throttle.wait_text(seconds) == text


def test_nothing_is_counted_when_throttles_are_off(settings):
    settings.THROTTLE_ENABLED = False
    limit(settings, login_ip=(1, 900))
    for _attempt in range(3):
        assert throttle.hit(("login_ip", HOME)) == []


HIT_IN_ANOTHER_PROCESS = """
import json, sys
import django
django.setup()
import django.test.signals  # noqa: F401 (resets the caches when CACHES changes)
import time_machine
from django.test import override_settings
from core import throttle

config, instant, key, times = json.loads(sys.argv[1])
with override_settings(CACHES={"default": config}), time_machine.travel(instant, tick=False):
    print(json.dumps([throttle.hit(("login_ip", key))[0].count for _ in range(times)]))
"""


@pytest.fixture
def redis_cache(settings):
    """The default cache on the tests' Redis, under a prefix of this test only; its keys
    are deleted afterwards."""
    location = environment.value("CELERY_BROKER_URL")
    if not location.startswith("redis://"):
        pytest.skip("the tests' broker is not Redis")
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": prefix,
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }
    settings.CACHES = {"default": config}
    server = redis.Redis.from_url(location)
    yield config, lambda: [key.decode() for key in server.keys(f"{prefix}:*")]
    keys = server.keys(f"{prefix}:*")
    if keys:
        server.delete(*keys)
    server.close()


def test_two_processes_share_the_counters_through_redis(client, candidate, settings, redis_cache):
    config, keys = redis_cache
    limit(settings, login_ip=(4, 900))
    another_process = subprocess.run(
        [
            sys.executable,
            "-c",
            HIT_IN_ANOTHER_PROCESS,
            json.dumps([config, INSTANT.timestamp(), HOME, 3]),
        ],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert another_process.returncode == 0, another_process.stderr
    assert json.loads(another_process.stdout) == [1, 2, 3]

    assert log_in(client, "inconnu@exemple.test", WRONG).status_code == 200  # the 4th
    assert log_in(client, candidate.email).status_code == 429
    assert log_in(Client(), candidate.email, ip=ELSEWHERE).status_code == 302

    stored = keys()
    assert stored
    assert all(":throttle:login_ip:" in key for key in stored)
    assert not any(HOME in key or ELSEWHERE in key or "@" in key for key in stored)


def test_reset_counters_per_address_hold_no_address_in_redis(
    client, candidate, settings, redis_cache
):
    _config, keys = redis_cache
    ask_reset(client, candidate.email)
    stored = keys()
    assert len(stored) == 2
    assert not any(candidate.email in key or "camille" in key or HOME in key for key in stored)


def test_a_cache_that_is_down_lets_people_in_and_says_so_in_the_log(
    client, candidate, settings, caplog
):
    settings.CACHES = {"default": environment.unreachable_cache()}
    limit(settings, login_ip=(1, 900), signup_ip=(1, 3600))
    caplog.set_level(logging.WARNING, logger="core.throttle")

    for _attempt in range(3):
        assert log_in(client, "inconnu@exemple.test", WRONG).status_code == 200
    assert log_in(client, candidate.email).status_code == 302
    client.logout()
    for email in ["un@asso-exemple.test", "deux@asso-exemple.test"]:
        assert sign_up(client, email).status_code == 302

    assert (
        User.objects.filter(email__in=["un@asso-exemple.test", "deux@asso-exemple.test"]).count()
        == 2
    )
    warnings = [record for record in caplog.records if record.name == "core.throttle"]
    # Once: the process then leaves the cache alone for a while.
    assert [record.getMessage() for record in warnings] == [
        f"Cache unavailable: throttles are not applied for {throttle.PAUSE_SECONDS} s"
    ]


@pytest.mark.parametrize(
    ("typed", "rate"),
    [("30/15min", (30, 900)), ("5/h", (5, 3600)), (" 100 / 1d ", (100, 86400)), ("3/s", (3, 1))],
)
def test_a_rate_is_read_from_the_environment(typed, rate):
    from config.settings import _rate

    assert _rate("THROTTLE_LOGIN_PER_IP", typed) == rate


@pytest.mark.parametrize("typed", ["30", "0/h", "5/0h", "5 par heure", "5/hour", "-1/h"])
def test_a_wrong_rate_stops_the_start_up_with_a_french_message(typed):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import _rate

    with pytest.raises(ImproperlyConfigured, match="n'est pas une limite du type"):
        _rate("THROTTLE_LOGIN_PER_IP", typed)
