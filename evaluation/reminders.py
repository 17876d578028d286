"""Reminders to evaluators: assigned dossiers not yet evaluated before the due date."""

import datetime as dt
from itertools import groupby

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aap.reminder_settings import call_scope, days_by_call
from aap.states import CallStatus
from candidatures.models import Candidature
from core.dates import format_datetime
from core.links import absolute_url
from core.reminders import Due, ReminderKind, Setting, before
from evaluation.models import Assignment, ScoringGrid
from evaluation.states import AdmissibilityOutcome, ConflictStatus, EvaluationStatus


def settled_dossiers():
    """Dossiers no reminder concerns any more: declared inadmissible, or decided, or of
    a call classed « sans suite »."""
    return Candidature.objects.filter(
        Q(admissibility__outcome=AdmissibilityOutcome.INADMISSIBLE)
        | Q(decisions__isnull=False)
        | Q(call__status=CallStatus.ABANDONED)
    ).values("pk")


def _object_id(call_id: int, evaluator_id: int) -> str:
    return f"{call_id}-{evaluator_id}"


def _parse(only) -> tuple[int | None, int | None]:
    """``only`` is the object id of a reminder's key: « <call>-<evaluator> »."""
    if only is None:
        return None, None
    call_id, _sep, evaluator_id = str(only).partition("-")
    return int(call_id), int(evaluator_id or 0)


class EvaluationsBeforeDue(ReminderKind):
    """One e-mail per evaluator and call, listing every dossier still to evaluate there
    (not one per dossier)."""

    name = "evaluations_due"
    label = _("Évaluations à rendre")
    settings = (
        Setting("evaluation_days", _("évaluations : jours avant la date de rendu"), "7, 2"),
    )

    def due(self, now, only=None):
        only_call, only_evaluator = _parse(only)
        grids = (
            ScoringGrid.objects.filter(due_at__gt=now, due_at__lte=now + dt.timedelta(days=60))
            .exclude(call__status=CallStatus.ABANDONED)  # nothing left to evaluate
            .select_related("call")
        )
        if only_call is not None:
            grids = grids.filter(call_id=only_call)
        days = days_by_call(grids.values("call_id"))
        for grid in grids:
            call = grid.call
            milestone = before(grid.due_at, days[call.pk].of("evaluation_days"), now)
            if milestone is None:
                continue
            pending = (
                Assignment.objects.filter(candidature__call=call, evaluator__is_active=True)
                .exclude(conflict=ConflictStatus.CONFLICT)
                .filter(Q(evaluation__isnull=True) | Q(evaluation__status=EvaluationStatus.DRAFT))
                .values_list("evaluator_id", "evaluator__email", "candidature__organisation__name")
                .order_by("evaluator_id", "candidature__organisation__name", "pk")
            )
            if only_evaluator is not None:
                pending = pending.filter(evaluator_id=only_evaluator)
            rows = pending.iterator(chunk_size=2000)
            for (evaluator_id, email), group in groupby(rows, key=lambda row: row[:2]):
                dossiers = [organisation for _id, _email, organisation in group]
                yield Due(
                    self.name,
                    _object_id(call.pk, evaluator_id),
                    milestone,
                    evaluator_id,
                    email,
                    "reminder_evaluation",
                    {
                        "call_title": call.title,
                        "call_reference": call.reference,
                        "dossiers": dossiers,
                        "count": len(dossiers),
                        "due": format_datetime(grid.due_at),
                        "url": absolute_url("evaluation:my_evaluations"),
                    },
                    call_scope(call.pk),
                    call.reference,
                )


def digest_items(now) -> list[tuple[int, str]]:
    """For the instructeurs' daily digest: evaluations past their due date."""
    return [
        (
            Assignment.objects.exclude(conflict=ConflictStatus.CONFLICT)
            .exclude(candidature__call__status=CallStatus.ABANDONED)
            .filter(candidature__call__scoring_grid__due_at__lt=now)
            .filter(Q(evaluation__isnull=True) | Q(evaluation__status=EvaluationStatus.DRAFT))
            .count(),
            _("évaluation(s) en retard"),
        ),
    ]
