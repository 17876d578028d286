"""The dates a call's texts name, derived from its calendar.

The 2024 call writes its deadline, its year and the expected start into its prose ("au
plus tard le 17 septembre 2024 à 17h00", "à l'automne 2024") and into its annexes. The
demonstration copies have other calendars: their texts are filled from the same
sentences with their own dates, so that a copy never names the 2024 deadline. Filled
with the 2024 calendar, the sentences give the published text word for word.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.formats import date_format

# The season an action starts in, with the preposition French puts before it.
SEASONS = {
    **dict.fromkeys((3, 4, 5), "au printemps"),
    **dict.fromkeys((6, 7, 8), "à l'été"),
    **dict.fromkeys((9, 10, 11), "à l'automne"),
    **dict.fromkeys((12, 1, 2), "à l'hiver"),
}


@dataclass(frozen=True)
class CallDates:
    deadline: dt.datetime

    @property
    def local_deadline(self) -> dt.datetime:
        return timezone.localtime(self.deadline)

    @property
    def year(self) -> int:
        return self.local_deadline.year

    @property
    def deadline_text(self) -> str:
        """ "17 septembre 2024 à 17h00"."""
        with translation.override("fr"):
            return date_format(self.local_deadline, "DATETIME_FORMAT")

    @property
    def start_text(self) -> str:
        """When the action may start, at the earliest: the season of the month after the
        deadline, "à l'automne 2024" for a deadline in September 2024. A winter names
        both its years ("à l'hiver 2026-2027")."""
        deadline = self.local_deadline.date()
        month = deadline.replace(day=1) + dt.timedelta(days=32)
        season = SEASONS[month.month]
        if month.month == 12:
            return f"{season} {month.year}-{month.year + 1}"
        if month.month in (1, 2):
            return f"{season} {month.year - 1}-{month.year}"
        return f"{season} {month.year}"

    def fill(self, text: str) -> str:
        """``text`` with ``{deadline}``, ``{start}`` and ``{year}`` replaced."""
        return text.format(deadline=self.deadline_text, start=self.start_text, year=self.year)


# The 2024 call: « au plus tard le 17 septembre 2024 à 17h00 », Paris time.
SEED_DATES = CallDates(dt.datetime(2024, 9, 17, 17, 0, tzinfo=ZoneInfo("Europe/Paris")))
