"""« Clore le dépôt » is offered once the deadline has passed, and refused before it."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from aap.models import CallStatusChange
from aap.services import available_actions, close_call
from aap.states import CallAction, CallStatus
from core.exceptions import DomainError
from tests.factories import CallFactory

DEADLINE = dt.datetime(2030, 3, 31, 15, 0, tzinfo=dt.UTC)  # 17h00 in Paris


@pytest.fixture
def call(db):
    with time_machine.travel(DEADLINE - dt.timedelta(days=20), tick=False):
        return CallFactory(deadline=DEADLINE, opens_at=DEADLINE - dt.timedelta(days=30))


@pytest.fixture
def staff(client_for, instructeur):
    """Logged in when the test's clock says (a session of 2026 has expired in 2030)."""
    return lambda: client_for(instructeur)


def test_closing_is_not_offered_nor_accepted_before_the_deadline(call, staff, instructeur):
    close_url = reverse("aap:backoffice_transition", args=[call.pk, "close"])
    with time_machine.travel(DEADLINE - dt.timedelta(minutes=1), tick=False):
        assert CallAction.CLOSE not in available_actions(call)
        staff = staff()
        page = staff.get(reverse("aap:backoffice_call", args=[call.pk])).content.decode()
        assert close_url not in page and "Clore le dépôt" not in page
        # The confirmation page says why, and its button is off.
        page = staff.get(close_url).content.decode()
        assert "La date limite n&#x27;est pas encore passée" in page
        assert "disabled" in page
        # Posted all the same (an old tab): refused in French, nothing recorded.
        response = staff.post(close_url, {"note": "Trop tôt"})
        assert response.status_code == 400
        assert "pas encore passée" in response.content.decode()
        with pytest.raises(DomainError, match="La date limite n'est pas encore passée"):
            close_call(call, by=instructeur)
    call.refresh_from_db()
    assert call.status == CallStatus.PUBLISHED
    assert not CallStatusChange.objects.filter(call=call, action="close").exists()


def test_closing_is_offered_once_the_deadline_has_passed(call, staff):
    close_url = reverse("aap:backoffice_transition", args=[call.pk, "close"])
    with time_machine.travel(DEADLINE + dt.timedelta(seconds=1), tick=False):
        assert CallAction.CLOSE in available_actions(call)
        staff = staff()
        page = staff.get(reverse("aap:backoffice_call", args=[call.pk])).content.decode()
        assert close_url in page
        response = staff.post(close_url, {"note": "Date limite passée"})
        assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED


def test_the_deadline_second_itself_is_still_on_time(call):
    # The deadline reads to the second (aap.deadlines): at 17h00 and 0.5 s, not yet.
    with time_machine.travel(DEADLINE + dt.timedelta(microseconds=500_000), tick=False):
        assert CallAction.CLOSE not in available_actions(call)
