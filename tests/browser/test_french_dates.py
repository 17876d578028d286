"""French dates as the journeys match them: in the browser, through Playwright, whose
patterns run as JavaScript regular expressions (where \\w knows no accented letter).

For one day of each of the twelve months, with the clock frozen on it, the submission
message and the date formats the pages use are rendered by the code that renders them
for candidates, put in a page, and matched with the journeys' own patterns.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from playwright.sync_api import expect

from candidatures.models import Receipt
from candidatures.receipts import submitted_message
from core.dates import format_datetime
from tests.browser import helpers

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
# The first of the month at 9:05 and 7 s, the seventeenth just before the deadline.
INSTANTS = [
    moment
    for month in range(1, 13)
    for moment in (
        dt.datetime(2026, month, 1, 9, 5, 7, tzinfo=PARIS),
        dt.datetime(2026, month, 17, 16, 59, 59, tzinfo=PARIS),
    )
]
PAGE_DATE = Template("{{ value|date }}")
PAGE_DATETIME = Template('{{ value|date:"DATETIME_FORMAT" }}')


def rendered(instant: dt.datetime) -> dict[str, str]:
    """Every rendering of ``instant`` that a journey matches, made at that instant."""
    with time_machine.travel(instant, tick=False):
        now = timezone.now()
        receipt = Receipt(number="AAP-2026-FCS-0042", submitted_at=now)
        local = timezone.localtime(now)
        return {
            "message": submitted_message(receipt),
            "date": date_format(local.date(), "DATE_FORMAT"),
            "datetime": format_datetime(now),
            "seconds": format_datetime(now, seconds=True),
            "template-date": PAGE_DATE.render(Context({"value": local})),
            "template-datetime": PAGE_DATETIME.render(Context({"value": now})),
        }


def test_every_month_is_matched_by_the_journeys_patterns(page):
    texts = {instant: rendered(instant) for instant in INSTANTS}
    page.set_content(
        "".join(
            f'<p data-at="{instant:%m-%d}" data-kind="{kind}">{escape(text)}</p>'
            for instant, rendered_texts in texts.items()
            for kind, text in rendered_texts.items()
        )
    )
    patterns = {
        "message": helpers.submitted_message("AAP-2026-FCS-0042"),
        "date": re.compile(rf"^{helpers.FRENCH_DATE}$"),
        "datetime": re.compile(rf"^{helpers.FRENCH_DATETIME}$"),
        "seconds": re.compile(rf"^{helpers.FRENCH_DATETIME_SECONDS}$"),
        "template-date": re.compile(rf"^{helpers.FRENCH_DATE}$"),
        "template-datetime": re.compile(rf"^{helpers.FRENCH_DATETIME}$"),
    }
    for instant, rendered_texts in texts.items():
        month = MONTHS[instant.month - 1]
        # The text itself, so that a pattern matching anything would not pass unseen.
        assert rendered_texts["date"] == f"{instant.day} {month} 2026"
        assert rendered_texts["seconds"] == (
            f"{instant.day} {month} 2026 à {instant:%Hh%M} et {instant:%S} s"
        )
        for kind, pattern in patterns.items():
            paragraph = page.locator(f'p[data-at="{instant:%m-%d}"][data-kind="{kind}"]')
            expect(paragraph).to_have_text(pattern)


def test_the_old_ascii_pattern_misses_the_accented_months(page):
    """Why the journeys name the months: the pattern they used before fails in the browser
    for décembre, février and août, and only for them."""
    page.set_content("".join(f"<p>17 {month} 2026</p>" for month in MONTHS))
    ascii_word = re.compile(r"^\d{1,2} \w+ \d{4}$")
    matched = page.locator("p").evaluate_all(
        "(nodes, source) => nodes.map((node) => new RegExp(source).test(node.textContent))",
        ascii_word.pattern,
    )
    assert [month for month, ok in zip(MONTHS, matched, strict=True) if not ok] == [
        "février",
        "août",
        "décembre",
    ]
