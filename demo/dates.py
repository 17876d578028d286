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

from aap.placeholders import start_text


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
        """ "à l'automne 2024": the call's own rule (``aap.placeholders.start_text``)."""
        return start_text(self.deadline)

    def fill(self, text: str) -> str:
        """``text`` with ``{deadline}``, ``{start}`` and ``{year}`` replaced."""
        return text.format(deadline=self.deadline_text, start=self.start_text, year=self.year)


# The 2024 call: « au plus tard le 17 septembre 2024 à 17h00 », Paris time.
SEED_DATES = CallDates(dt.datetime(2024, 9, 17, 17, 0, tzinfo=ZoneInfo("Europe/Paris")))
