"""Dates and hours as the Département reads them: on a Paris clock, in French.

"17 septembre 2024 à 17h00" names one instant: ``local_datetime`` refuses the hour skipped
or repeated on daylight-saving days; ``format_datetime`` writes it back, to the second
when a receipt needs it.
"""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format


def to_the_second(when: dt.datetime) -> dt.datetime:
    return when.replace(microsecond=0)


class NonexistentLocalTime(ValueError):
    """The hour does not exist (or exists twice) on that day in the local time zone."""


def local_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware instant for a date and an hour read on a Paris clock.

    Refuses the hour skipped when clocks go forward and the hour repeated when they
    go back: a deadline must name one instant only.
    """
    zone = ZoneInfo(settings.TIME_ZONE)
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0)
    # Inside a skipped or a repeated hour, the two folds give different offsets.
    if first.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        raise NonexistentLocalTime(naive)
    return first


def format_datetime(value: dt.datetime, *, seconds: bool = False) -> str:
    """ "17 septembre 2024 à 17h00", or "… à 16h59 et 58 s" to the second."""
    local = timezone.localtime(value)
    text = date_format(local, "DATETIME_FORMAT")
    return f"{text} et {local.second:02d} s" if seconds else text


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, on the last day of a shorter month (31 January + 1
    month is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shift_months(when: dt.datetime, months: int) -> dt.datetime:
    """The same hour on a Paris clock, ``months`` later: « 17 septembre 2024 à 17h00 »
    shifted by 12 is « 17 septembre 2025 à 17h00 », whatever the daylight-saving time.
    An hour that does not exist on the new day (clocks going forward) is refused by
    ``local_datetime``, so that a deadline never names an instant it did not mean."""
    local = timezone.localtime(when)
    return local_datetime(add_months(local.date(), months), local.time().replace(tzinfo=None))
