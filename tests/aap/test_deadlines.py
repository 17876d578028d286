"""The deadline rule with time frozen on both sides of 17:00 Paris, and across the
daylight-saving changes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from aap.deadlines import is_on_time
from aap.models import Call, CallStatusChange
from aap.services import close_calls_past_deadline
from aap.states import CallStatus
from core.dates import NonexistentLocalTime, local_datetime
from tests.factories import CallFactory

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


def test_seed_deadline_is_17h_paris_in_summer_time():
    deadline = local_datetime(dt.date(2024, 9, 17), dt.time(17, 0))
    assert deadline.astimezone(UTC) == dt.datetime(2024, 9, 17, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "on_time"),
    [
        (paris(2024, 9, 17, 16, 59, 59), True),
        (paris(2024, 9, 17, 17, 0, 0), True),
        (paris(2024, 9, 17, 17, 0, 0, 999999), True),  # still the second 17:00:00
        (paris(2024, 9, 17, 17, 0, 1), False),
        (paris(2024, 9, 18, 9, 0, 0), False),
    ],
)
def test_on_time_is_up_to_the_second_of_the_deadline(received, on_time):
    deadline = local_datetime(dt.date(2024, 9, 17), dt.time(17, 0))
    assert is_on_time(deadline, received) is on_time


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (dt.date(2024, 3, 30), 16),  # the day before clocks go forward: UTC+1
        (dt.date(2024, 3, 31), 15),  # clocks went forward at 02:00: UTC+2
        (dt.date(2024, 10, 26), 15),  # the day before clocks go back: UTC+2
        (dt.date(2024, 10, 27), 16),  # clocks went back at 03:00: UTC+1
    ],
)
def test_17h_paris_is_the_right_instant_around_daylight_saving_changes(day, utc_hour):
    deadline = local_datetime(day, dt.time(17, 0))
    assert deadline.astimezone(UTC) == dt.datetime.combine(day, dt.time(utc_hour), tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "time"),
    [(dt.date(2024, 3, 31), dt.time(2, 30)), (dt.date(2024, 10, 27), dt.time(2, 30))],
)
def test_an_hour_skipped_or_repeated_is_refused(day, time):
    with pytest.raises(NonexistentLocalTime):
        local_datetime(day, time)


def _call_with_deadline(deadline):
    return CallFactory(
        status=CallStatus.PUBLISHED, opens_at=deadline - dt.timedelta(days=30), deadline=deadline
    )


@pytest.mark.parametrize(
    "deadline",
    [
        local_datetime(dt.date(2024, 9, 17), dt.time(17, 0)),
        local_datetime(dt.date(2024, 3, 31), dt.time(17, 0)),
        local_datetime(dt.date(2024, 10, 27), dt.time(17, 0)),
    ],
)
def test_the_call_closes_by_itself_just_after_its_deadline(db, deadline):
    call = _call_with_deadline(deadline)
    with time_machine.travel(deadline - dt.timedelta(seconds=1), tick=False):
        assert close_calls_past_deadline() == 0
        assert call.is_open()
    with time_machine.travel(deadline + dt.timedelta(microseconds=500_000), tick=False):
        assert close_calls_past_deadline() == 0  # still the deadline's second
    with time_machine.travel(deadline + dt.timedelta(seconds=1), tick=False):
        assert not Call.objects.get(pk=call.pk).is_open()
        assert close_calls_past_deadline() == 1
        assert close_calls_past_deadline() == 0  # a second sweep changes nothing
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED
    change = CallStatusChange.objects.get(call=call)
    assert change.by is None
    assert change.note == "Clôture automatique à la date limite de réception."


def test_one_hour_off_in_winter_is_not_the_deadline(db):
    # A deadline typed as 17:00 on 27 October 2024 is 16:00 UTC, not 15:00 UTC (summer).
    deadline = local_datetime(dt.date(2024, 10, 27), dt.time(17, 0))
    call = _call_with_deadline(deadline)
    with time_machine.travel(dt.datetime(2024, 10, 27, 15, 30, tzinfo=UTC), tick=False):
        assert close_calls_past_deadline() == 0
        assert Call.objects.open_at().filter(pk=call.pk).exists()


def test_the_periodic_task_closes_calls(db):
    deadline = local_datetime(dt.date(2024, 9, 17), dt.time(17, 0))
    call = _call_with_deadline(deadline)
    from aap.tasks import close_calls_past_deadline as task

    with time_machine.travel(deadline + dt.timedelta(minutes=1), tick=False):
        assert task.apply().get() == 1
        assert task.apply().get() == 0
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED


def test_querysets_agree_with_the_rule_at_the_deadline(db):
    deadline = local_datetime(dt.date(2024, 9, 17), dt.time(17, 0))
    call = _call_with_deadline(deadline)
    with time_machine.travel(deadline, tick=False):
        assert list(Call.objects.open_at()) == [call]
        assert not Call.objects.closed_at().exists()
    with time_machine.travel(deadline + dt.timedelta(seconds=1), tick=False):
        assert not Call.objects.open_at().exists()
        assert list(Call.objects.closed_at()) == [call]
        assert list(Call.objects.past_deadline()) == [call]


def test_demo_loader_keeps_the_seed_deadline(db):
    call_command("load_demo", no_accounts=True)
    call = Call.objects.get(reference="AAP-2024-FCS")
    assert call.deadline == paris(2024, 9, 17, 17, 0)
