"""What needs the Service IVE's action, call by call: the « À faire » of the staff's home.

Each app knows its own work (questions to answer here; dossiers to check, late
evaluations and decisions to notify in ``evaluation``) and ``aap`` may not import the
apps above it: each registers a provider in its ``AppConfig.ready``. A provider answers
for every call at once, in one grouped query, so that the page's queries do not grow
with the number of calls.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import ngettext

from aap.models import CallQuestion
from aap.states import CallStatus


@dataclass(frozen=True)
class Todo:
    """« 3 questions à répondre » on one call, and where to do it."""

    call_id: int
    count: int
    label: str
    url: str
    order: int = 0  # the steps' order on the page: questions, dossiers, evaluations, decisions


# Calls where nothing is left to do: decided (notified), archived, or classed sans suite.
SETTLED = (CallStatus.DECIDED, CallStatus.ARCHIVED, CallStatus.ABANDONED)

TodoProvider = Callable[[dt.datetime], Iterable[Todo]]

_providers: list[TodoProvider] = []


def register_todo(provider: TodoProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def todos_by_call(now: dt.datetime) -> dict[int, list[Todo]]:
    """Every registered provider's items with a count, grouped by call, in step order."""
    grouped: dict[int, list[Todo]] = defaultdict(list)
    for provider in _providers:
        for item in provider(now):
            if item.count:
                grouped[item.call_id].append(item)
    for items in grouped.values():
        items.sort(key=lambda item: item.order)
    return dict(grouped)


def questions_to_answer(now: dt.datetime) -> list[Todo]:
    rows = (
        CallQuestion.objects.pending()
        .exclude(call__status__in=SETTLED)
        .order_by()
        .values("call_id")
        .annotate(n=Count("pk"))
        .values_list("call_id", "n")
    )
    return [
        Todo(
            call_id,
            n,
            ngettext("%(n)d question à répondre", "%(n)d questions à répondre", n) % {"n": n},
            reverse("aap:backoffice_questions", args=[call_id]),
            order=10,
        )
        for call_id, n in rows
    ]
