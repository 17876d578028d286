"""Dates that cannot contradict each other: the call's free texts name its dates through
placeholders rendered from its calendar, and publishing warns about any other date.

« Les dossiers sont à déposer au plus tard le {{ date_limite }} » reads « … le 17 septembre
2024 à 17h00 » on the page, in the PDF and in the e-mails, and follows the deadline when it
is postponed. The placeholders are replaced by plain text substitution, never by the
template engine: what staff type cannot reach the template language.
"""

import datetime as dt
import re

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import format_datetime

# The season an action starts in, with the preposition French puts before it.
SEASONS = {
    **dict.fromkeys((3, 4, 5), "au printemps"),
    **dict.fromkeys((6, 7, 8), "à l'été"),
    **dict.fromkeys((9, 10, 11), "à l'automne"),
    **dict.fromkeys((12, 1, 2), "à l'hiver"),
}


def start_text(deadline: dt.datetime) -> str:
    """When the action may start, at the earliest: the season of the month after the
    deadline, « à l'automne 2024 » for a deadline in September 2024. A winter names both
    its years (« à l'hiver 2026-2027 »)."""
    local = timezone.localtime(deadline).date()
    month = local.replace(day=1) + dt.timedelta(days=32)
    season = SEASONS[month.month]
    if month.month == 12:
        return f"{season} {month.year}-{month.year + 1}"
    if month.month in (1, 2):
        return f"{season} {month.year - 1}-{month.year}"
    return f"{season} {month.year}"


def values(call) -> dict[str, str]:
    """Each placeholder's text for ``call``."""
    return {
        "date_limite": format_datetime(call.deadline),
        "date_lancement": date_format(timezone.localtime(call.opens_at), "DATE_FORMAT"),
        "demarrage": start_text(call.deadline),
        "annee": str(call.year),
    }


PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
HELP = gettext_lazy(
    "Pour citer les dates de l'appel, écrivez {{ date_limite }}, {{ date_lancement }}, "
    "{{ demarrage }} ou {{ annee }} : elles suivent le calendrier, report compris."
)


def render(text: str | None, call) -> str:
    """``text`` with the placeholders it names replaced; an unknown one stays as typed
    (and publishing points it out)."""
    if not text or "{{" not in text:
        return text or ""
    known = values(call)
    return PLACEHOLDER.sub(lambda match: known.get(match.group(1), match.group(0)), text)


# --- What publishing warns about -----------------------------------------------------------

MONTHS = {
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
WRITTEN = re.compile(r"\b(1er|\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")

# The call's texts a candidate reads, in the order of the page.
TEXT_FIELDS = (
    "summary",
    "context",
    "objectives",
    "actions_intro",
    "actions_note",
    "selection_intro",
    "eligibility",
    "partnership_terms",
    "funding_terms",
    "dossier_contents",
    "submission_terms",
    "start_expected",
    "contact_details",
)


def _dates_in(text: str) -> list[tuple[str, dt.date | None]]:
    found = []
    for match in WRITTEN.finditer(text):
        day = 1 if match.group(1).lower() == "1er" else int(match.group(1))
        month = MONTHS[match.group(2).lower()]
        found.append((match.group(0), _date(int(match.group(3)), month, day)))
    for match in NUMERIC.finditer(text):
        found.append(
            (
                match.group(0),
                _date(int(match.group(3)), int(match.group(2)), int(match.group(1))),
            )
        )
    return found


def _date(year, month, day) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def warnings(call) -> list[str]:
    """What publishing ``call`` warns about, in French: a date written in one of its texts
    that is none of its calendar's (the opening and the deadline), and a placeholder it
    does not know. A warning, not a refusal: a text may cite a law's date."""
    calendar = {
        timezone.localtime(call.opens_at).date(),
        timezone.localtime(call.deadline).date(),
    }
    known = values(call)
    found = []
    for name in TEXT_FIELDS:
        text = getattr(call, name) or ""
        label = call._meta.get_field(name).verbose_name
        for written, day in _dates_in(text):
            if day not in calendar:
                found.append(
                    _(
                        "« %(field)s » cite le %(date)s, qui n'est pas une date du calendrier "
                        "de l'appel (lancement le %(opens)s, date limite le %(deadline)s) : "
                        "vérifiez-la, ou écrivez {{ date_limite }} ou {{ date_lancement }}."
                    )
                    % {
                        "field": label,
                        "date": written,
                        "opens": known["date_lancement"],
                        "deadline": known["date_limite"],
                    }
                )
        for match in PLACEHOLDER.finditer(text):
            if match.group(1) not in known:
                found.append(
                    _("« %(field)s » contient %(placeholder)s, qui n'est pas une date connue.")
                    % {"field": label, "placeholder": match.group(0)}
                )
    return found
