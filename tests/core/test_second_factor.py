"""Two-factor authentication (core.accounts.mfa): mandatory for staff before any page,
asked after the password, recovery codes used once, wrong codes counted by django-axes,
reset by an administrator with history and e-mail, optional for candidates, and the
session a ProConnect login marks verified."""

import datetime as dt
import html
import re
import uuid

import pyotp
import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import mfa
from core.models import OutgoingEmail, SecondFactorEvent
from core.roles import Role
from tests.factories import PASSWORD, UserFactory
from tests.mfa import base32, enrol

pytestmark = pytest.mark.django_db

# A fixed instant, so that the code pyotp computes is the one the server expects.
T0 = dt.datetime(2025, 3, 12, 9, 0, 7, tzinfo=dt.UTC)
LOGIN_URL = reverse("accounts:login")
VERIFY_URL = reverse("accounts:mfa_verify")
SETUP_URL = reverse("accounts:mfa_setup")
BACKOFFICE_URL = reverse("aap:backoffice_calls")
WRONG_CODE_MESSAGE = "Code incorrect. Saisissez le code à 6 chiffres affiché par votre application"


@pytest.fixture(autouse=True)
def no_lockout_left_by_another_test():
    assert not AccessAttempt.objects.exists()


@pytest.fixture(autouse=True)
def clock():
    """Every test at T0, the clock still; ``clock.shift(seconds)`` moves it on (sessions
    last eight hours, django-otp asks to wait a little after a wrong code)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def text(response) -> str:
    return html.unescape(response.content.decode())


def log_in(client, email, password=PASSWORD):
    return client.post(LOGIN_URL, {"username": email, "password": password})


def type_code(client, code, next_url=""):
    return client.post(VERIFY_URL, {"code": code, "next": next_url})


def code_now(device) -> str:
    return pyotp.TOTP(base32(device)).now()


# --- Enrolment before any staff page -----------------------------------------------------------


def _dummy_kwargs(pattern: URLPattern) -> dict:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        if isinstance(converter, IntConverter):
            kwargs[name] = 1
        elif isinstance(converter, UUIDConverter):
            kwargs[name] = uuid.UUID(int=1)
        else:
            kwargs[name] = "x"
    return kwargs


def _urls(resolver=None, namespace=""):
    """Every named URL of the site, the admin's included, with made-up arguments."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _urls(entry, space)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}"
            try:
                yield name, reverse(name, kwargs=_dummy_kwargs(entry))
            except Exception:  # a pattern with a regex group reverse cannot fill
                continue


ALLOWED_BEFORE_ENROLMENT = {
    "accounts:mfa_setup",
    "accounts:logout",
    "healthz",
    "readyz",
    "calendar_feed",
}


def test_every_url_sends_an_instructeur_without_a_factor_to_enrolment(client, instructeur):
    client.force_login(instructeur, second_factor=False)
    walked = []
    for name, url in _urls():
        if name in ALLOWED_BEFORE_ENROLMENT or name.startswith("legal:"):
            continue
        response = client.get(url)
        assert response.status_code == 302, (name, url, response.status_code)
        assert response.url.startswith(SETUP_URL), (name, response.url)
        walked.append(name)
    # The back-office, the admin and the pages of every app are in the walk.
    assert {"aap:backoffice_calls", "admin:index", "accounts:home"} <= set(walked)
    assert len(walked) > 100
    # A POST does not run either.
    assert client.post(reverse("accounts:profile"), {"first_name": "X"}).url == SETUP_URL
    instructeur.refresh_from_db()
    assert instructeur.first_name != "X"


@pytest.mark.parametrize("persona", ["evaluator", "ddets_reader", "admin_user"])
def test_every_staff_role_is_sent_to_enrolment(client, request, persona):
    client.force_login(request.getfixturevalue(persona), second_factor=False)

    for name in (
        "accounts:home",
        "evaluation:my_evaluations",
        "evaluation:rankings",
        "admin:index",
    ):
        assert client.get(reverse(name)).url.startswith(SETUP_URL), name


def test_the_legal_pages_and_logout_stay_open_before_enrolment(client, instructeur):
    client.force_login(instructeur, second_factor=False)

    assert client.get(reverse("legal:notice")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert AUTH_SESSION_KEY not in client.session


def test_enrolment_shows_a_local_qr_code_and_a_right_code_enrols_with_ten_recovery_codes(
    client, instructeur
):
    client.force_login(instructeur, second_factor=False)

    redirected = client.get(BACKOFFICE_URL)
    page = client.get(redirected.url)
    assert page.status_code == 200
    assert "Activer la double authentification" in text(page)
    assert "Gestion des appels" not in text(page)  # no menu to pages it would not open
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', page.content.decode())
    assert qr is not None  # made here, no external address
    secret = page.context["base32_secret"]
    assert page.context["otpauth_uri"].startswith("otpauth://totp/AAP%20Is%C3%A8re%3A")
    assert f"secret={secret}" in page.context["otpauth_uri"]
    signed = page.context["form"]["secret"].value()

    wrong = client.post(SETUP_URL, {"secret": signed, "code": "000000", "next": BACKOFFICE_URL})
    assert wrong.status_code == 200
    assert "Ce code ne correspond pas" in text(wrong)
    assert not TOTPDevice.objects.filter(user=instructeur).exists()

    right = client.post(
        SETUP_URL,
        {"secret": signed, "code": pyotp.TOTP(secret).now(), "next": BACKOFFICE_URL},
    )

    assert right.status_code == 302
    shown = client.get(right.url)
    codes = shown.context["codes"]
    assert len(codes) == 10 == len(set(codes))
    assert all(code in text(shown) for code in codes)
    assert shown.context["next"] == BACKOFFICE_URL
    # Shown once.
    assert client.get(right.url).context["codes"] is None
    backoffice = client.get(BACKOFFICE_URL)
    assert backoffice.status_code == 200
    assert "Gestion des appels" in text(backoffice)
    assert SecondFactorEvent.objects.get(user=instructeur).action == SecondFactorEvent.ENROLLED


def test_a_half_logged_in_session_cannot_replace_the_factor_it_owes(client, instructeur):
    device = enrol(instructeur)
    client.force_login(instructeur, second_factor=False)

    assert client.get(SETUP_URL).url.startswith(VERIFY_URL)
    secret = mfa.new_enrolment_secret(instructeur)
    key = mfa.secret_key(instructeur, secret)
    code = pyotp.TOTP(mfa.base32_secret(key)).now()
    response = client.post(SETUP_URL, {"secret": secret, "code": code})
    assert response.url.startswith(VERIFY_URL)
    with pytest.raises(mfa.SecondFactorError) as refused:
        mfa.confirm_enrolment(instructeur, signed_secret=secret, code=code)
    assert refused.value.code == "already_enrolled"
    assert list(TOTPDevice.objects.filter(user=instructeur)) == [device]
    assert client.get(BACKOFFICE_URL).url.startswith(VERIFY_URL)


def test_an_enrolment_secret_signed_for_another_account_is_refused(instructeur, evaluator):
    signed = mfa.new_enrolment_secret(evaluator)

    with pytest.raises(mfa.SecondFactorError, match="n'est pas le vôtre"):
        mfa.confirm_enrolment(instructeur, signed_secret=signed, code="123456")
    with pytest.raises(mfa.SecondFactorError, match="expiré"):
        mfa.confirm_enrolment(instructeur, signed_secret=signed + "x", code="123456")


# --- The code after the password -------------------------------------------------------------


def test_a_later_login_asks_for_the_code_and_refuses_a_wrong_one_in_french(
    client, instructeur, clock
):
    device = enrol(instructeur)

    assert log_in(client, instructeur.email).url == reverse("accounts:home")
    home = client.get(reverse("accounts:home"))
    assert home.url == f"{VERIFY_URL}?next=%2Fcompte%2Fespace%2F"
    assert client.get(BACKOFFICE_URL).url.startswith(VERIFY_URL)
    page = client.get(home.url)
    assert "Double authentification" in text(page)

    wrong = type_code(client, "123456" if code_now(device) != "123456" else "654321")
    assert wrong.status_code == 200
    assert WRONG_CODE_MESSAGE in text(wrong)
    assert client.get(BACKOFFICE_URL).status_code == 302

    # django-otp asks to wait a second after a failure: the clock moves on.
    clock.shift(5)
    right = type_code(client, code_now(device), next_url="/compte/espace/")
    assert right.url == "/compte/espace/"
    assert client.get(BACKOFFICE_URL).status_code == 200
    assert client.session[mfa.SESSION_KEY]["method"] == "totp"
    # The same code cannot be used twice.
    client.logout()
    log_in(client, instructeur.email)
    assert WRONG_CODE_MESSAGE in text(type_code(client, code_now(device)))


def test_a_redirection_after_the_code_stays_on_the_site(client, instructeur):
    device = enrol(instructeur)
    client.force_login(instructeur, second_factor=False)

    response = type_code(client, code_now(device), next_url="https://ailleurs.example/")

    assert response.url == reverse("accounts:home")


def test_a_recovery_code_works_once(client, instructeur, clock):
    enrol(instructeur)
    codes = mfa.renew_recovery_codes(instructeur)

    log_in(client, instructeur.email)
    used = type_code(client, codes[3].upper(), next_url=BACKOFFICE_URL)
    assert used.url == BACKOFFICE_URL
    page = client.get(BACKOFFICE_URL)
    assert page.status_code == 200
    assert "Il vous en reste 9" in text(page)
    assert client.session[mfa.SESSION_KEY]["method"] == "recovery"
    assert mfa.recovery_codes_left(instructeur) == 9

    client.logout()
    log_in(client, instructeur.email)
    clock.shift(5)
    again = type_code(client, codes[3])
    assert again.status_code == 200
    assert WRONG_CODE_MESSAGE in text(again)
    assert client.get(BACKOFFICE_URL).url.startswith(VERIFY_URL)
    assert [event.action for event in SecondFactorEvent.objects.filter(user=instructeur)] == [
        SecondFactorEvent.RECOVERY_CODES_RENEWED,
        SecondFactorEvent.RECOVERY_CODE_USED,
    ]


def test_new_recovery_codes_replace_the_old_ones(client, instructeur):
    enrol(instructeur)
    old = mfa.renew_recovery_codes(instructeur)
    client.force_login(instructeur)

    response = client.post(reverse("accounts:mfa_recovery_codes"), follow=True)

    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=instructeur).values_list("token", flat=True)
    ) == set(new)


# --- Lockout ------------------------------------------------------------------------------------


def wrong_codes(client, device, count, clock):
    """``count`` wrong codes, a minute apart (past django-otp's growing pauses)."""
    responses = []
    for _ in range(count):
        clock.shift(60)
        right = code_now(device)
        responses.append(type_code(client, "000000" if right != "000000" else "111111"))
    return responses


def test_repeated_wrong_codes_lock_the_account_out_even_for_the_right_password(
    client, instructeur, settings, clock
):
    device = enrol(instructeur)
    log_in(client, instructeur.email)

    responses = wrong_codes(client, device, settings.AXES_FAILURE_LIMIT, clock)

    assert [response.status_code for response in responses[:-1]] == [200] * (
        settings.AXES_FAILURE_LIMIT - 1
    )
    locked = responses[-1]
    assert locked.status_code == 429
    assert "Connexion temporairement bloquée" in text(locked)
    assert AUTH_SESSION_KEY not in client.session  # the half-open session is closed
    clock.shift(60)
    again = log_in(client, instructeur.email)
    assert again.status_code == 429
    assert AUTH_SESSION_KEY not in client.session


def test_a_right_password_does_not_wipe_the_wrong_codes_typed_after_it(
    client, instructeur, settings, clock
):
    device = enrol(instructeur)
    log_in(client, instructeur.email)
    wrong_codes(client, device, settings.AXES_FAILURE_LIMIT - 2, clock)

    client.logout()
    log_in(client, instructeur.email)
    responses = wrong_codes(client, device, 2, clock)

    assert responses[-1].status_code == 429


def test_the_whole_login_succeeding_forgets_the_failures(client, instructeur, settings, clock):
    device = enrol(instructeur)
    log_in(client, instructeur.email)
    wrong_codes(client, device, settings.AXES_FAILURE_LIMIT - 1, clock)
    assert AccessAttempt.objects.exists()

    clock.shift(60)
    assert type_code(client, code_now(device)).status_code == 302

    assert not AccessAttempt.objects.exists()


# --- Reset by an administrator ---------------------------------------------------------------


def test_an_administrator_resets_a_factor_with_history_and_an_email(
    client, admin_user, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    enrol(instructeur)
    mfa.renew_recovery_codes(instructeur)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/core/user/",
            {"action": "reset_second_factor", "_selected_action": [instructeur.pk]},
            follow=True,
        )

    assert "Double authentification réinitialisée" in text(response)
    assert not TOTPDevice.objects.filter(user=instructeur).exists()
    assert mfa.recovery_codes_left(instructeur) == 0
    event = SecondFactorEvent.objects.get(action=SecondFactorEvent.RESET)
    assert (event.user, event.by, event.at) == (instructeur, admin_user, T0)
    assert [message.to for message in mailoutbox] == [[instructeur.email]]
    message = mailoutbox[0]
    assert message.subject.endswith("Votre double authentification a été réinitialisée")
    assert "le 12 mars 2025 à 10h00" in message.body
    assert "http://testserver/compte/connexion/" in message.body
    [(body_html, _)] = message.alternatives
    assert 'href="http://testserver/compte/connexion/"' in body_html
    assert OutgoingEmail.objects.get(template="second_factor_reset").user == instructeur

    # The next login enrols again.
    client.logout()
    log_in(client, instructeur.email)
    assert client.get(BACKOFFICE_URL).url.startswith(SETUP_URL)


def test_only_an_administrator_resets_a_factor(instructeur, evaluator):
    enrol(evaluator)
    admin_staff = UserFactory(email="gestion@isere.test", is_staff=True, roles=[Role.INSTRUCTEUR])

    for by in (instructeur, admin_staff):
        with pytest.raises(PermissionDenied):
            mfa.reset_second_factor(evaluator, by=by)
    assert TOTPDevice.objects.filter(user=evaluator).exists()
    assert not SecondFactorEvent.objects.exists()


def test_resetting_an_account_without_a_factor_is_refused(admin_user, instructeur):
    with pytest.raises(mfa.SecondFactorError, match="pas de double authentification"):
        mfa.reset_second_factor(instructeur, by=admin_user)
    assert not SecondFactorEvent.objects.exists()


# --- Candidates: optional -----------------------------------------------------------------------


def test_a_candidate_logs_in_without_a_second_factor(client, candidate):
    log_in(client, candidate.email)

    assert client.get(reverse("accounts:home")).url == reverse("candidatures:my_dossiers")
    profile = client.get(reverse("accounts:profile"))
    assert "Non activée" in text(profile)


def test_a_candidate_who_enabled_it_is_asked_for_the_code_and_may_turn_it_off(
    client, candidate, clock
):
    device = enrol(candidate)
    log_in(client, candidate.email)
    assert client.get(reverse("candidatures:my_dossiers")).url.startswith(VERIFY_URL)

    type_code(client, code_now(device))
    assert client.get(reverse("candidatures:my_dossiers")).status_code == 200

    clock.shift(60)
    response = client.post(reverse("accounts:mfa_disable"), {"code": code_now(device)})
    assert response.url == reverse("accounts:profile")
    assert not mfa.has_second_factor(candidate)
    assert SecondFactorEvent.objects.filter(
        user=candidate, action=SecondFactorEvent.DISABLED
    ).exists()


def test_staff_cannot_turn_their_second_factor_off(client, instructeur):
    enrol(instructeur)
    client.force_login(instructeur)

    assert client.get(reverse("accounts:mfa_disable")).status_code == 403
    assert client.post(reverse("accounts:mfa_disable"), {"code": "123456"}).status_code == 403
    with pytest.raises(mfa.SecondFactorError):
        mfa.disable(instructeur, code="123456")
    assert mfa.has_second_factor(instructeur)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in (VERIFY_URL, SETUP_URL, reverse("accounts:mfa_recovery_codes")):
        assert client.get(url).url.startswith(f"{LOGIN_URL}?next=")


# --- ProConnect ----------------------------------------------------------------------------------


def test_mark_verified_completes_a_session_without_a_code(client, instructeur):
    """What the ProConnect login does after its own, when the ID token says a second
    factor was used: the session reaches the back-office, with a new key, and the
    failures counted for the address are forgotten."""
    client.force_login(instructeur, second_factor=False)
    AccessAttempt.objects.create(
        username=instructeur.email,
        ip_address="127.0.0.1",
        user_agent="",
        failures_since_start=2,
        attempt_time=T0,
    )
    old_key = client.session.session_key
    request = RequestFactory().get("/")
    request.session = SessionStore(old_key)
    request.user = instructeur

    mfa.mark_verified(request, method="proconnect")
    request.session.save()

    assert request.session.session_key != old_key
    client.cookies["sessionid"] = request.session.session_key
    assert client.get(BACKOFFICE_URL).status_code == 200
    assert client.session[mfa.SESSION_KEY]["method"] == "proconnect"
    assert not AccessAttempt.objects.exists()
    assert not TOTPDevice.objects.filter(user=instructeur).exists()  # no enrolment asked
