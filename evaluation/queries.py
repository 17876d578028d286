"""Scores, totals and rankings, computed by the database.

One point of a sub-criterion is worth ``factor`` points out of 100 (see
``SubCriterionFactor``): an evaluation's total is ``Sum(score × factor)``, stored on the
evaluation when it is submitted. A dossier's result is the mean of its submitted
evaluations' totals, or the consensus score when one was set; the spread is max − min.
"""

from decimal import Decimal

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Rank
from django.utils.translation import gettext

from aap.states import CallStatus
from candidatures.models import Candidature
from core import rules as core_rules
from core.dates import format_datetime
from evaluation.models import (
    AdmissibilityRectification,
    Assignment,
    DecisionRectification,
    Evaluation,
    Score,
)
from evaluation.states import AdmissibilityOutcome, ConflictStatus, EvaluationStatus

SCORE = DecimalField(max_digits=10, decimal_places=4)
SUBMITTED = Q(assignments__evaluation__status=EvaluationStatus.SUBMITTED)


def evaluation_total_subquery():
    """The total out of 100 of the evaluation ``OuterRef("pk")``."""
    return Subquery(
        Score.objects.filter(evaluation=OuterRef("pk"))
        .order_by()
        .values("evaluation")
        .annotate(total=Sum(F("value") * F("subcriterion__factor__factor"), output_field=SCORE))
        .values("total")[:1],
        output_field=SCORE,
    )


def among(ids) -> RawSQL | list:
    """``ids`` for a ``pk__in`` filter. On PostgreSQL, one array parameter, unnested: the
    planner reads its length. A sub-query naming a lot's admissible dossiers (a call, a
    lot, an admissibility) is estimated at two rows where there are a thousand, and the
    plan then looks up 21,000 scores one by one (45 ms, against 17 with the array)."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def criterion_means(dossier_ids) -> dict[int, dict[int, Decimal]]:
    """For each dossier of ``dossier_ids``, its mean score of each criterion over its
    submitted evaluations, brought to the criterion's weight (sum of its points × factors
    / number of evaluations): ``{dossier id: {criterion id: mean}}``.

    One grouped aggregate over the scores, whatever the number of dossiers and criteria:
    a correlated sub-query per criterion, run once per dossier, cost a ranking of 1,000
    dossiers three scans of the scores per row."""
    rows = (
        Score.objects.filter(
            evaluation__status=EvaluationStatus.SUBMITTED,
            evaluation__assignment__candidature_id__in=among(dossier_ids),
        )
        .order_by()
        .values_list("evaluation__assignment__candidature_id", "subcriterion__criterion_id")
        .annotate(
            mean=ExpressionWrapper(
                Sum(F("value") * F("subcriterion__factor__factor"))
                / Count("evaluation", distinct=True),
                output_field=SCORE,
            )
        )
    )
    means: dict[int, dict[int, Decimal]] = {}
    for dossier_id, criterion_id, mean in rows:
        means.setdefault(dossier_id, {})[criterion_id] = mean
    return means


def with_results(queryset):
    """Annotate dossiers with their results.

    ``evaluations`` submitted, ``mean_total``, ``min_total``, ``max_total`` (out of 100),
    ``spread``, ``consensus_total``, ``final_total`` (the consensus if any, else the mean)
    and ``final_on_20``. Each criterion's mean comes from ``criterion_means``.
    """
    return (
        queryset.annotate(
            evaluations=Count("assignments__evaluation", filter=SUBMITTED, distinct=True),
            mean_total=Avg("assignments__evaluation__total", filter=SUBMITTED, output_field=SCORE),
            min_total=Min("assignments__evaluation__total", filter=SUBMITTED),
            max_total=Max("assignments__evaluation__total", filter=SUBMITTED),
            consensus_total=F("consensus__total"),
        )
        .annotate(
            spread=ExpressionWrapper(F("max_total") - F("min_total"), output_field=SCORE),
            final_total=Coalesce(F("consensus__total"), F("mean_total"), output_field=SCORE),
        )
        .annotate(
            final_on_20=ExpressionWrapper(F("final_total") / Value(Decimal(5)), output_field=SCORE),
        )
    )


def admissible_in_lot(lot):
    return Candidature.objects.filter(
        call_id=lot.call_id, lots=lot, admissibility__outcome=AdmissibilityOutcome.ADMISSIBLE
    )


def ranking(lot, *, threshold=None):
    """The admissible dossiers of ``lot``, best first, with ``rank`` (ties share a rank)
    and ``disagreement`` when the spread passes ``threshold``."""
    queryset = with_results(admissible_in_lot(lot))
    if threshold is not None:
        queryset = queryset.annotate(
            disagreement=Case(When(spread__gt=threshold, then=Value(True)), default=Value(False))
        )
    return (
        queryset.annotate(
            rank=Window(Rank(), order_by=F("final_total").desc(nulls_last=True)),
        )
        .select_related("organisation", "consensus")
        .order_by(F("final_total").desc(nulls_last=True), "organisation__name")
    )


def lot_money(lot):
    """The lot's budget against the amounts requested by its admissible dossiers."""
    totals = admissible_in_lot(lot).aggregate(
        requested=Sum("requested_amount"), dossiers=Count("pk")
    )
    return {"budget": lot.budget, **totals}


def submitted_evaluations(candidature):
    return (
        Evaluation.objects.filter(
            assignment__candidature=candidature, status=EvaluationStatus.SUBMITTED
        )
        .select_related("assignment__evaluator")
        .prefetch_related("scores", "justifications")
        .order_by("submitted_at")
    )


def blind_dossier_ids(user, *, call_id: int | None = None, lot=None) -> set[int]:
    """The dossiers ``user`` is still evaluating: assigned to them, no conflict of interest
    declared, their evaluation not submitted, their scoring not closed (no frozen committee
    record of their lots, no notified decisions). Blind scoring: whatever their other
    roles, they see no other evaluator's scores or totals for these dossiers, on any page
    or export, until they submit their own."""
    if not core_rules.is_evaluator(user):
        return set()
    pending = (
        Assignment.objects.filter(evaluator=user)
        .exclude(conflict=ConflictStatus.CONFLICT)
        .exclude(evaluation__status=EvaluationStatus.SUBMITTED)
        .exclude(
            candidature__call__status__in=[
                CallStatus.DECIDED,
                CallStatus.ARCHIVED,
                CallStatus.ABANDONED,
            ]
        )
        .exclude(candidature__lots__committee_records__isnull=False)
    )
    if call_id is not None:
        pending = pending.filter(candidature__call_id=call_id)
    if lot is not None:
        pending = pending.filter(candidature__lots=lot)
    return set(pending.values_list("candidature_id", flat=True))


def rectifications_of(candidature, lot):
    """The rectifications of the dossier's decision on ``lot``, the latest first. An
    agreement prepared on that decision shows them (« décision rectifiée le … »): the
    agreement is then to be reviewed, or amended."""
    return (
        DecisionRectification.objects.filter(decision__candidature=candidature, decision__lot=lot)
        .select_related("by")
        .order_by("-at", "-pk")
    )


def rectified_notice(candidature, lot) -> str:
    """« Décision rectifiée le … : retenu → non retenu », or "" when never rectified."""
    latest = rectifications_of(candidature, lot).first()
    if latest is None:
        return ""
    return gettext("Décision rectifiée le %(date)s : %(old)s → %(new)s (%(reason)s)") % {
        "date": format_datetime(latest.at),
        "old": latest.get_old_outcome_display(),
        "new": latest.get_new_outcome_display(),
        "reason": latest.reason,
    }


def admitted_after(records) -> dict[int, list]:
    """For each committee record, the dossiers of its lot declared admissible by a
    rectification of their notified inadmissibility after it was frozen, oldest first,
    each with ``lot_decision`` (the committee's decision on the record's lot, carried by
    the act): the record did not rank them, and is flagged beside them."""
    records = list(records)
    if not records:
        return {}
    lots = {record.lot_id for record in records}
    earliest = min(record.created_at for record in records)
    acts = list(
        AdmissibilityRectification.objects.filter(candidature__lots__in=lots, at__gt=earliest)
        .select_related("candidature__organisation")
        .distinct()
        .order_by("at", "pk")
    )
    found = {}
    for record in records:
        found[record.pk] = []
        for act in acts:
            rows = [row for row in act.decision_rows() if row.lot_id == record.lot_id]
            if rows and act.at > record.created_at:
                act.lot_decision = rows[0]
                found[record.pk].append(act)
    return found


def rectified_after(records) -> dict[int, list]:
    """For each committee record, the decisions of its lot rectified after it was frozen,
    oldest first: the record stays as it was signed, and is flagged beside them."""
    records = list(records)
    if not records:
        return {}
    lots = {record.lot_id for record in records}
    earliest = min(record.created_at for record in records)
    rectifications = list(
        DecisionRectification.objects.filter(decision__lot__in=lots, at__gt=earliest)
        .select_related("decision__candidature__organisation")
        .order_by("at", "pk")
    )
    return {
        record.pk: [
            rectification
            for rectification in rectifications
            if rectification.decision.lot_id == record.lot_id
            and rectification.at > record.created_at
        ]
        for record in records
    }


def evaluator_worklist(user, *, now=None) -> list[dict]:
    """« Mes évaluations »: the evaluator's assignments grouped by call (the nearest due
    date first), each group split into to do (interests to declare, not started or in
    draft), done (submitted) and set aside (a declared conflict), with the lots."""
    from django.db.models import Prefetch
    from django.utils import timezone

    from aap.models import Lot

    now = now or timezone.now()
    assignments = (
        Assignment.objects.filter(evaluator=user)
        .select_related(
            "candidature__organisation", "candidature__call__scoring_grid", "evaluation"
        )
        .prefetch_related(Prefetch("candidature__lots", queryset=Lot.objects.order_by("position")))
        .order_by("candidature__call__deadline", "candidature__organisation__name", "pk")
    )
    groups: dict[int, dict] = {}
    for assignment in assignments:
        call = assignment.candidature.call
        grid = getattr(call, "scoring_grid", None)
        due_at = grid.due_at if grid else None
        group = groups.setdefault(
            call.pk,
            {
                "call": call,
                "due_at": due_at,
                "late": due_at is not None and due_at < now,
                "to_do": [],
                "done": [],
                "set_aside": [],
            },
        )
        evaluation = getattr(assignment, "evaluation", None)
        if assignment.conflict == ConflictStatus.CONFLICT:
            group["set_aside"].append(assignment)
        elif evaluation is not None and evaluation.status == EvaluationStatus.SUBMITTED:
            group["done"].append(assignment)
        else:
            group["to_do"].append(assignment)
    return sorted(
        groups.values(),
        key=lambda group: (
            not group["to_do"],
            group["due_at"] is None,
            group["due_at"] or now,
            group["call"].title,
        ),
    )
