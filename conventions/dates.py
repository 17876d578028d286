"""The calendar of an agreement: its default period after the decision, its quarters and
the due dates derived from them."""

import datetime as dt

from core.dates import add_months


def default_start(decision_date: dt.date) -> dt.date:
    """The first day of the month after the decision: an agreement never runs before the
    decision it carries out (a decision of 6 December 2026 gives 1 January 2027)."""
    return add_months(decision_date.replace(day=1), 1)


def default_end(start: dt.date) -> dt.date:
    """Twelve months from ``start``, the day before its anniversary."""
    return add_months(start, 12) - dt.timedelta(days=1)


def quarter_count(start: dt.date, end: dt.date) -> int:
    """How many quarters of three months the period from ``start`` to ``end`` has begun."""
    count = 1
    while add_months(start, 3 * count) <= end:
        count += 1
    return count


def quarter_bounds(start: dt.date, number: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the agreement's quarter ``number`` (from 1)."""
    first = add_months(start, 3 * (number - 1))
    return first, add_months(start, 3 * number) - dt.timedelta(days=1)


def quarter_of(start: dt.date, day: dt.date) -> int:
    """The agreement's quarter ``day`` falls in (1 before the start)."""
    number = 1
    while add_months(start, 3 * number) <= day:
        number += 1
    return number
