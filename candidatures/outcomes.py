"""What became of a dossier once submitted, as its candidates read it: its outcome (the
badge of « Mes dossiers » and of the dossier page) and the events of its timeline.

The apps downstream know the facts (evaluation: admissibility, notified decisions;
conventions: the agreement and its payments), and ``candidatures`` may not import them:
each registers its providers in its ``AppConfig.ready``. A provider reads a whole list
of dossiers at once, so that a page's queries do not grow with its rows.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from candidatures.models import Candidature


@dataclass(frozen=True)
class Outcome:
    """« Retenu – lot Nord Isère »: what the candidate was told, once they were told."""

    label: str
    tone: str  # a Bootstrap colour: success, danger, warning, secondary, info


@dataclass(frozen=True)
class Event:
    """One line of the dossier's timeline."""

    at: dt.datetime
    label: str
    detail: str = ""


OutcomeProvider = Callable[[list[Candidature]], dict[int, list[Outcome]]]
EventProvider = Callable[[list[Candidature]], dict[int, list[Event]]]
# Both from the same reads: ``provider(dossiers, events=…)`` returns the outcomes and, when
# asked, the events (else an empty dict).
BothProvider = Callable[..., tuple[dict[int, list[Outcome]], dict[int, list[Event]]]]

_outcome_providers: list[OutcomeProvider] = []
_event_providers: list[EventProvider] = []
_both_providers: list[BothProvider] = []


def register_outcomes(provider: OutcomeProvider) -> None:
    if provider not in _outcome_providers:
        _outcome_providers.append(provider)


def register_events(provider: EventProvider) -> None:
    if provider not in _event_providers:
        _event_providers.append(provider)


def register_outcomes_and_events(provider: BothProvider) -> None:
    """For an app whose outcomes and events read the same rows: read once per page."""
    if provider not in _both_providers:
        _both_providers.append(provider)


def attach(dossiers: Iterable[Candidature], *, events: bool = False) -> list[Candidature]:
    """Give each dossier its ``outcomes`` (and its ``events``, oldest first, when asked)."""
    dossiers = list(dossiers)
    for dossier in dossiers:
        dossier.outcomes, dossier.events = [], []
    if not dossiers:
        return dossiers
    by_id = {dossier.pk: dossier for dossier in dossiers}
    for provider in _outcome_providers:
        for pk, found in provider(dossiers).items():
            by_id[pk].outcomes.extend(found)
    for provider in _both_providers:
        found_outcomes, found_events = provider(dossiers, events=events)
        for pk, found in found_outcomes.items():
            by_id[pk].outcomes.extend(found)
        for pk, found in found_events.items():
            by_id[pk].events.extend(found)
    if events:
        for provider in _event_providers:
            for pk, found in provider(dossiers).items():
                by_id[pk].events.extend(found)
        for dossier in dossiers:
            dossier.events.sort(key=lambda event: event.at)
    return dossiers
