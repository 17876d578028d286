import os

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from core import throttle
from core.roles import Role
from tests.clamd import clamd_socket  # noqa: F401 (a session fixture for every test)
from tests.disks import nearly_full_disk, use_private_storage
from tests.factories import PASSWORD, UserFactory, ready_call
from tests.mfa import SecondFactorClient

# Playwright's sync API runs an event loop in the test thread; Django's live server
# and ORM calls from the test are still synchronous. Test process only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def private_root(settings, tmp_path):
    """Private storage in a folder of this test only (other test runs share the machine);
    modules whose tests store files use it automatically."""
    root = tmp_path / "private"
    root.mkdir()
    return use_private_storage(settings, root)


@pytest.fixture
def full_private_root(settings, tmp_path):
    """Private storage on a real disk with 8 kB left (tests/disks.py)."""
    with nearly_full_disk(tmp_path / "private", free_bytes=8 * 1024) as root:
        yield use_private_storage(settings, root)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def candidate(db):
    return UserFactory(email="camille@epci-exemple.test", roles=[Role.CANDIDAT])


@pytest.fixture
def other_candidate(db):
    return UserFactory(email="olivier@gip-exemple.test", roles=[Role.CANDIDAT])


@pytest.fixture
def instructeur(db):
    return UserFactory(email="ines@isere.test", roles=[Role.INSTRUCTEUR])


@pytest.fixture
def evaluator(db):
    return UserFactory(email="etienne@isere.test", roles=[Role.EVALUATEUR])


@pytest.fixture
def ddets_reader(db):
    return UserFactory(email="denis@ddets.test", roles=[Role.LECTEUR_DDETS])


@pytest.fixture
def admin_user(db):
    return UserFactory(email="alice@isere.test", is_staff=True, is_superuser=True)


@pytest.fixture
def anonymous():
    return AnonymousUser()


@pytest.fixture
def open_call(db):
    return ready_call()


@pytest.fixture
def client():
    """Django's test client, whose ``force_login`` of a staff member also passes the
    second factor with a real device (tests/mfa.py); ``second_factor=False`` stops at
    the password."""
    return SecondFactorClient()


@pytest.fixture
def client_for(client):
    """``client_for(user)``: a test client logged in as ``user`` (None: anonymous)."""

    def login(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def broker_not_paused():
    """A test that made the broker fail leaves this process's publishing pause behind
    (core.mail): each test starts without it."""
    from core import mail

    mail._broker_paused_until = 0.0


@pytest.fixture(autouse=True)
def throttles_start_empty():
    """Throttle counters live in the cache (core.throttle), and a test that made the
    cache fail leaves this process's pause behind: each test starts without either."""
    if isinstance(caches["default"], LocMemCache):  # a shared cache (CACHE_URL) is never flushed
        caches["default"].clear()
    throttle._cache_paused_until = 0.0
