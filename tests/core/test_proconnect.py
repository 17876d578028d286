"""ProConnect login against a real OpenID provider (Node's oidc-provider, started here):
authorization code flow with PKCE, the ID token's nonce, the state, matching by verified
e-mail, the second factor the provider did, and logout at the provider."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from django.urls import reverse

from core.accounts import mfa, proconnect
from core.accounts import views as account_views
from core.roles import Role
from tests import proconnect as oidc
from tests.factories import UserFactory
from tests.processes import stop

ACCOUNTS = {
    # ProConnect's eIDAS « substantiel » level: the provider did a second factor.
    "ines-2fa": {"email": "Ines@Isere.test", "email_verified": True, "acr": "eidas2"},
    "ines-mfa-amr": {
        "email": "ines@isere.test",
        "email_verified": True,
        "acr": "eidas1",
        "amr": ["pwd", "mfa"],
    },
    "ines-password": {
        "email": "ines@isere.test",
        "email_verified": True,
        "acr": "eidas1",
        "amr": ["pwd"],
    },
    "ines-unverified": {"email": "ines@isere.test", "email_verified": False, "acr": "eidas2"},
    "stranger": {"email": "inconnu@isere.test", "email_verified": True, "acr": "eidas2"},
    "candidate": {"email": "camille@epci-exemple.test", "email_verified": True, "acr": "eidas2"},
}


@pytest.fixture(scope="module")
def running_provider():
    provider = oidc.start(ACCOUNTS)
    yield provider
    stop(provider.process)


@pytest.fixture
def provider(running_provider, settings):
    """The provider, ProConnect switched on for it, and a fresh browser at its side."""
    for name, value in running_provider.settings().items():
        setattr(settings, name, value)
    running_provider.agent = requests.Session()
    return running_provider


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def _start(client):
    response = client.get(reverse("accounts:proconnect_login"))
    assert response.status_code == 302
    return response["Location"]


def _callback(client, provider, login):
    """Through the provider's pages as ``login``, back to our callback (followed)."""
    back = provider.follow(_start(client), login=login)
    assert isinstance(back, str), back.text
    assert back.startswith(oidc.CALLBACK)
    return back


def _logged_in(client):
    return "_auth_user_id" in client.session


def test_instructeur_logs_in_through_proconnect_and_lands_on_the_back_office(
    client, provider, instructeur
):
    page = client.get(reverse("accounts:login"))
    assert b"Se connecter avec" in page.content and b"ProConnect" in page.content

    authorize = _start(client)
    assert authorize.startswith(provider.issuer + "/auth?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"] and query["state"]
    assert query["scope"] == ["openid email given_name usual_name"]
    assert query["redirect_uri"] == [oidc.CALLBACK]
    assert json.loads(query["claims"][0]) == {"id_token": {"amr": {"essential": True}, "acr": None}}

    back = provider.follow(authorize, login="ines-2fa")
    response = client.get(back, follow=True)

    assert response.redirect_chain[-1][0] == reverse("aap:backoffice_calls")
    assert response.status_code == 200
    assert response.context["user"] == instructeur
    assert list(instructeur.groups.values_list("name", flat=True)) == [Role.INSTRUCTEUR]
    # The provider's eIDAS 2 login is the second factor: the platform's code is not asked.
    assert client.session[mfa.SESSION_KEY]["method"] == "proconnect"
    assert client.get(reverse("aap:backoffice_calls")).status_code == 200
    # The ID token is kept for the logout's hint.
    assert client.session[proconnect.ID_TOKEN_SESSION_KEY].count(".") == 2


def test_amr_mfa_also_counts_as_the_second_factor(client, provider, instructeur):
    response = client.get(_callback(client, provider, "ines-mfa-amr"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("aap:backoffice_calls")
    assert client.session[mfa.SESSION_KEY]["method"] == "proconnect"


def test_without_a_multi_factor_login_the_platform_asks_its_own_second_factor(
    client, provider, instructeur
):
    client.get(_callback(client, provider, "ines-password"))
    assert _logged_in(client)
    assert mfa.SESSION_KEY not in client.session
    # The back-office stays closed until the platform's second factor (here: enrolment).
    response = client.get(reverse("aap:backoffice_calls"))
    assert response.status_code == 302
    assert response["Location"] != reverse("aap:backoffice_calls")


def test_a_wrong_nonce_is_refused(client, provider, instructeur):
    authorize = _start(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    # The session expects another nonce than the one the provider puts in the ID token
    # (as if the token had been issued for another login).
    session = client.session
    session["oidc_states"][state]["nonce"] = "a-nonce-this-login-never-sent"
    session.save()

    back = provider.follow(authorize, login="ines-2fa")
    response = client.get(back, follow=True)

    assert not _logged_in(client)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert _messages(response) == [str(account_views.PROCONNECT_UNVERIFIED)]


def test_a_forged_state_is_refused_and_a_callback_cannot_be_replayed(client, provider, instructeur):
    back = _callback(client, provider, "ines-2fa")
    query = parse_qs(urlsplit(back).query)
    forged = {**{key: values[0] for key, values in query.items()}, "state": "forged-state"}

    response = client.get(f"{oidc.CALLBACK}?{urlencode(forged)}", follow=True)
    assert not _logged_in(client)
    assert _messages(response) == [str(account_views.PROCONNECT_UNVERIFIED)]

    # The true answer still logs in (the code was not spent on the forged one)...
    client.get(back)
    assert _logged_in(client)
    # ...once: the same answer again is refused.
    client.logout()
    response = client.get(back, follow=True)
    assert not _logged_in(client)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert _messages(response) == [str(account_views.PROCONNECT_UNVERIFIED)]


def test_an_unknown_email_is_refused_with_a_french_message(client, provider, instructeur):
    response = client.get(_callback(client, provider, "stranger"), follow=True)
    assert not _logged_in(client)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert _messages(response) == [
        "Aucun compte de la plateforme n'a l'adresse inconnu@isere.test transmise par "
        "ProConnect. Les comptes des agents sont créés par un administrateur : "
        "demandez-lui d'ouvrir le vôtre avec cette adresse."
    ]
    assert "inconnu@isere.test" in response.content.decode()


def test_an_unverified_email_is_refused(client, provider, instructeur):
    response = client.get(_callback(client, provider, "ines-unverified"), follow=True)
    assert not _logged_in(client)
    assert _messages(response)[0].startswith(
        "ProConnect n'indique pas que l'adresse ines@isere.test est vérifiée"
    )


def test_a_candidate_account_is_refused(client, provider, candidate):
    assert candidate.email == "camille@epci-exemple.test"
    response = client.get(_callback(client, provider, "candidate"), follow=True)
    assert not _logged_in(client)
    assert _messages(response)[0].startswith("La connexion avec ProConnect est réservée aux agents")


def test_an_inactive_staff_account_is_refused(client, provider, db):
    UserFactory(email="ines@isere.test", roles=[Role.INSTRUCTEUR], is_active=False)
    response = client.get(_callback(client, provider, "ines-2fa"), follow=True)
    assert not _logged_in(client)
    assert _messages(response) == ["Ce compte est désactivé : connexion refusée."]


def test_logout_ends_the_session_at_the_provider_too(client, provider, instructeur):
    client.get(_callback(client, provider, "ines-2fa"))
    id_token = client.session[proconnect.ID_TOKEN_SESSION_KEY]

    response = client.post(reverse("accounts:logout"))

    assert not _logged_in(client)
    end = response["Location"]
    assert end.startswith(provider.issuer + "/session/end?")
    query = parse_qs(urlsplit(end).query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == [oidc.AFTER_LOGOUT]
    # The provider confirms and sends the browser back to our home page...
    assert provider.follow(end) == oidc.AFTER_LOGOUT
    # ...and its own session is over: a new login asks for the identity again.
    page = provider.follow(_start(client))
    assert '<form method="post" action="/interaction/' in page.text


def test_a_password_login_logs_out_locally_only(client, provider, instructeur):
    client.force_login(instructeur)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("aap:home")


def test_switched_off_by_default_no_button_and_no_pages(client, settings, instructeur):
    settings.PROCONNECT_ENABLED = False
    assert b"ProConnect" not in client.get(reverse("accounts:login")).content
    assert client.get(reverse("accounts:proconnect_login")).status_code == 404
    assert client.get(reverse("accounts:proconnect_callback")).status_code == 404


def test_a_provider_that_does_not_answer_leaves_the_password_login(client, settings):
    settings.PROCONNECT_ENABLED = True
    settings.PROCONNECT_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.PROCONNECT_CLIENT_ID = oidc.CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = oidc.CLIENT_SECRET
    settings.PROCONNECT_TIMEOUT = 1
    response = client.get(reverse("accounts:proconnect_login"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert _messages(response) == [str(account_views.PROCONNECT_UNAVAILABLE)]


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"acr": "eidas1"}, False),
        ({"acr": "eidas2"}, True),
        ({"acr": "eidas3"}, True),
        ({"acr": "https://proconnect.gouv.fr/assurance/self-asserted-2fa"}, True),
        ({"acr": "https://proconnect.gouv.fr/assurance/self-asserted"}, False),
        ({"acr": "eidas1", "amr": ["pwd", "mfa"]}, True),
        ({"acr": "eidas1", "amr": "mfa"}, True),
        ({"amr": ["pwd", "otp"]}, False),
        ({}, False),
        ({"acr": ["eidas2"]}, False),  # not a string: not trusted
    ],
)
def test_what_counts_as_a_multi_factor_login(claims, expected):
    assert proconnect.is_multi_factor(claims) is expected


def test_the_acr_values_that_count_are_configured(settings):
    settings.PROCONNECT_MFA_ACR_VALUES = ["eidas3"]
    assert proconnect.is_multi_factor({"acr": "eidas2"}) is False
    assert proconnect.is_multi_factor({"acr": "eidas3"}) is True


def test_refused_identities_do_not_lock_the_office_out_of_proconnect(client, provider, instructeur):
    """A refusal comes after the provider authenticated the person: it is not a guessed
    password, and must not lock out the others behind the same address."""
    for _ in range(6):
        provider.agent = requests.Session()  # each one a new person at the provider
        client.get(_callback(client, provider, "stranger"))
    provider.agent = requests.Session()
    response = client.get(_callback(client, provider, "ines-2fa"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("aap:backoffice_calls")


def test_the_page_asked_before_the_login_is_reached_after_it(client, provider, instructeur):
    wanted = reverse("accounts:profile")
    page = client.get(f"{reverse('accounts:login')}?next={wanted}")
    assert f"{reverse('accounts:proconnect_login')}?next=/compte/" in page.content.decode()
    authorize = client.get(f"{reverse('accounts:proconnect_login')}?next={wanted}")["Location"]
    back = provider.follow(authorize, login="ines-2fa")
    response = client.get(back)
    assert response["Location"] == wanted


def _settings_with(environment):
    """Load config.settings in a fresh interpreter with ``environment``; its output."""
    code = (
        "import config.settings as s;print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": os.environ.get("PATH", ""), "DEBUG": "true", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_switched_on_without_its_client_the_start_stops_in_french():
    result = _settings_with({"PROCONNECT_ENABLED": "true", "PROCONNECT_ISSUER": "https://op.test"})
    assert result.returncode != 0
    assert (
        "PROCONNECT_ENABLED demande aussi PROCONNECT_CLIENT_ID, PROCONNECT_CLIENT_SECRET"
        in result.stderr
    )


def test_switched_on_the_logout_form_may_redirect_to_the_provider():
    result = _settings_with(
        {
            "PROCONNECT_ENABLED": "true",
            "PROCONNECT_ISSUER": "https://auth.op.test/api/v2",
            "PROCONNECT_CLIENT_ID": "client",
            "PROCONNECT_CLIENT_SECRET": "secret",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[\"'self'\", 'https://auth.op.test']"
    assert _settings_with({}).stdout.strip() == "[\"'self'\"]"
