"""The evaluation's part of the staff's « À faire » (``aap.todo``): dossiers whose
admissibility is not decided, evaluations past their due date, decisions to notify.
One grouped query each, whatever the number of calls."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import ngettext

from aap.states import CallStatus
from aap.todo import SETTLED, Todo
from candidatures.models import Candidature
from evaluation.models import Assignment, NotificationLetter
from evaluation.states import ConflictStatus, EvaluationStatus, LetterKind, LetterStatus


def _per_call(queryset, field="call_id"):
    return (
        queryset.order_by()
        .values(field)
        .annotate(n=Count("pk", distinct=True))
        .values_list(field, "n")
    )


def dossiers_to_check(now) -> list[Todo]:
    rows = _per_call(
        Candidature.objects.submitted()
        .filter(admissibility__isnull=True)
        .exclude(call__status__in=SETTLED)
    )
    return [
        Todo(
            call_id,
            n,
            ngettext(
                "%(n)d dossier déposé à vérifier (recevabilité)",
                "%(n)d dossiers déposés à vérifier (recevabilité)",
                n,
            )
            % {"n": n},
            reverse("evaluation:admissibility", args=[call_id]),
            order=20,
        )
        for call_id, n in rows
    ]


def late_evaluations(now) -> list[Todo]:
    rows = _per_call(
        Assignment.objects.exclude(conflict=ConflictStatus.CONFLICT)
        .filter(candidature__call__scoring_grid__due_at__lt=now)
        .filter(Q(evaluation__isnull=True) | Q(evaluation__status=EvaluationStatus.DRAFT))
        .exclude(candidature__call__status__in=SETTLED),
        field="candidature__call_id",
    )
    return [
        Todo(
            call_id,
            n,
            ngettext("%(n)d évaluation en retard", "%(n)d évaluations en retard", n) % {"n": n},
            reverse("evaluation:assignments", args=[call_id]),
            order=30,
        )
        for call_id, n in rows
    ]


def decisions_to_notify(now) -> list[Todo]:
    left = NotificationLetter.objects.filter(kind=LetterKind.DECISION).exclude(
        status=LetterStatus.DRAFT
    )
    rows = _per_call(
        Candidature.objects.submitted()
        .filter(call__status=CallStatus.UNDER_REVIEW, decisions__isnull=False)
        .exclude(pk__in=left.values("candidature_id"))
    )
    return [
        Todo(
            call_id,
            n,
            ngettext("%(n)d décision à notifier", "%(n)d décisions à notifier", n) % {"n": n},
            reverse("evaluation:notify", args=[call_id]),
            order=40,
        )
        for call_id, n in rows
    ]


PROVIDERS = (dossiers_to_check, late_evaluations, decisions_to_notify)
