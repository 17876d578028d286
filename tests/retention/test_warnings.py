"""An inactive account is warned by e-mail RETENTION_ACCOUNT_WARNING_DAYS before it is due,
once; the e-mail says a login keeps the account; a login cancels the warning and the
deletion."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from core.models import OutgoingEmail
from core.roles import Role
from retention.models import AccountWarning
from retention.queries import due
from retention.states import Category
from retention.tasks import list_due
from tests.factories import UserFactory
from tests.retention.conftest import at_noon, years_after

pytestmark = pytest.mark.django_db

DUE = years_after(3)  # three years after the sign-up on T0


@pytest.fixture
def sleeper():
    return UserFactory(
        email="dormant@asso-exemple.test",
        first_name="Denise",
        last_name="Dormante",
        roles=[Role.CANDIDAT],
    )


def warnings_sent(user):
    return OutgoingEmail.objects.filter(template="retention_account_warning", user=user)


def accounts_due():
    return {item.account.pk for item in due(on=timezone.localdate()) if item.account}


def test_the_warning_leaves_once_the_given_number_of_days_before_the_account_is_due(sleeper):
    first_day = DUE - dt.timedelta(days=settings.RETENTION_ACCOUNT_WARNING_DAYS)
    with at_noon(first_day - dt.timedelta(days=1)):
        list_due()
    assert not warnings_sent(sleeper).exists()
    with at_noon(first_day):
        assert list_due()["warned"] == 1
        assert list_due()["warned"] == 0  # a second run sends nothing
    with at_noon(first_day + dt.timedelta(days=10)):
        list_due()
    email = warnings_sent(sleeper).get()
    assert email.to == ["dormant@asso-exemple.test"]
    assert "5 décembre 2029" in email.subject
    for body in (email.body_text, email.body_html):
        assert "5 décembre 2029" in body
        assert "il suffit de vous connecter" in body
        assert "Une connexion conserve le compte et annule cet avertissement" in body
        assert f"{settings.SITE_URL}/compte/connexion/" in body
    warning = AccountWarning.objects.get(user=sleeper)
    assert (warning.due_on, warning.cancelled_at, warning.email) == (DUE, None, email)


def test_a_login_cancels_the_warning_and_keeps_the_account(sleeper, client):
    first_day = DUE - dt.timedelta(days=settings.RETENTION_ACCOUNT_WARNING_DAYS)
    with at_noon(first_day):
        list_due()
        client.force_login(sleeper)  # as the e-mail asks
    warning = AccountWarning.objects.get(user=sleeper)
    assert warning.cancelled_at is not None
    with at_noon(DUE):
        assert sleeper.pk not in accounts_due()
        list_due()
    assert warnings_sent(sleeper).count() == 1
    # Without the login, the account would have been due that day.
    other = UserFactory(roles=[Role.CANDIDAT])
    with at_noon(DUE):
        assert other.pk in accounts_due()
        assert Category.INACTIVE_ACCOUNT in {item.category for item in due(on=DUE)}
