"""Scoring due dates in the calendars of evaluators and instructeurs."""

from django.db.models import Q

from core import rules as core_rules
from core.calendars import Event
from core.links import absolute_url
from evaluation.models import ScoringGrid
from evaluation.states import ConflictStatus


def scoring_dates(user):
    grids = ScoringGrid.objects.filter(due_at__isnull=False).select_related("call")
    if not core_rules.is_instructeur(user):
        if not core_rules.is_evaluator(user):
            return
        grids = grids.filter(
            Q(call__candidatures__assignments__evaluator=user)
            & ~Q(call__candidatures__assignments__conflict=ConflictStatus.CONFLICT)
        ).distinct()
        url = absolute_url("evaluation:my_evaluations")
    else:
        url = absolute_url("evaluation:rankings")
    for grid in grids:
        yield Event(
            f"grid-{grid.pk}-due", f"Évaluations à rendre : {grid.call.title}", grid.due_at, url
        )
