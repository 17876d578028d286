"""Passwords are stored as Argon2id with OWASP's parameters (core/accounts/hashers.py);
hashes made before (PBKDF2, or Argon2 with Django's own parameters) still log in, and are
stored again as Argon2id at that login. The suite's settings use a fast hasher: these tests
put the production list back."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    identify_hasher,
    make_password,
)
from django.urls import reverse

from config import settings as production
from core.models import User
from core.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
# Algorithm, variant, version, then memory in KiB (19 MiB), passes and lanes.
ARGON2ID_PREFIX = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture(autouse=True)
def production_hashers(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def log_in(client, email, password=PASSWORD):
    return client.post(LOGIN_URL, {"username": email, "password": password})


def stored_hash(user) -> str:
    return User.objects.values_list("password", flat=True).get(pk=user.pk)


def test_a_new_password_is_hashed_with_argon2id_at_owasp_parameters():
    user = UserFactory(roles=[Role.CANDIDAT])

    assert stored_hash(user).startswith(ARGON2ID_PREFIX)
    assert make_password("Une-phrase-de-passe-solide").startswith(ARGON2ID_PREFIX)
    assert identify_hasher(stored_hash(user)).__class__.__name__ == "Argon2idPasswordHasher"


def test_production_keeps_the_hashers_of_passwords_stored_before():
    assert [path.rsplit(".", 1)[1] for path in production.PASSWORD_HASHERS] == [
        "Argon2idPasswordHasher",
        "PBKDF2PasswordHasher",
        "PBKDF2SHA1PasswordHasher",
    ]


@pytest.mark.parametrize(
    "old_hasher",
    [PBKDF2PasswordHasher, Argon2PasswordHasher],
    ids=["pbkdf2_sha256", "argon2_with_django_parameters"],
)
def test_an_old_hash_logs_in_and_is_stored_again_as_argon2id(client, old_hasher):
    user = UserFactory(roles=[Role.CANDIDAT])
    hasher = old_hasher()
    old = hasher.encode(PASSWORD, hasher.salt())
    User.objects.filter(pk=user.pk).update(password=old)

    response = log_in(client, user.email)

    assert response.status_code == 302
    assert response.url == reverse("accounts:home")
    assert client.session[SESSION_KEY] == str(user.pk)
    upgraded = stored_hash(user)
    assert upgraded.startswith(ARGON2ID_PREFIX)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # The session opened with the old hash survives its upgrade.
    assert client.get(reverse("accounts:home")).status_code == 302
    assert SESSION_KEY in client.session


def test_a_wrong_password_on_an_old_hash_is_refused_and_changes_nothing(client):
    user = UserFactory(roles=[Role.CANDIDAT])
    hasher = PBKDF2PasswordHasher()
    old = hasher.encode(PASSWORD, hasher.salt())
    User.objects.filter(pk=user.pk).update(password=old)

    response = log_in(client, user.email, "pas-le-bon-mot-de-passe")

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert stored_hash(user) == old
