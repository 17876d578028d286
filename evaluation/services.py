"""Every write of the evaluation: admissibility, grid, assignments, conflicts and scores.
Consensus, opinions, decisions and rectifications live in ``evaluation.decisions`` (and
are named here too), notification letters in ``evaluation.letters``."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.deadlines import is_on_time
from aap.models import Call, Lot, SubCriterion
from aap.models.calls import refuse_if_grid_locked
from aap.services import close_call, start_review, weights_problem
from aap.states import CallStatus
from candidatures.followup import is_paper_copy_on_time
from candidatures.models import Candidature, Identical
from candidatures.queries import member_emails
from candidatures.services import completeness
from candidatures.states import CandidatureStatus
from core import rules as core_rules
from core.exceptions import DomainError
from core.links import absolute_url
from core.mail import queue_email
from core.models import User
from core.roles import Role
from core.workflow import Workflow
from evaluation import rules
from evaluation.decisions import (  # noqa: F401 (the services' names, for their callers)
    admissibility_rectification_problem,
    granted_in_lot,
    preview_admissibility_rectification,
    preview_rectification,
    record_decision,
    record_opinion,
    rectify_admissibility,
    rectify_decision,
    set_consensus,
)
from evaluation.models import (
    Admissibility,
    AdmissibilityChange,
    Assignment,
    Evaluation,
    EvaluationStatusChange,
    Justification,
    Score,
    ScoringGrid,
    SubCriterionFactor,
    admissibility_frozen_reason,
    refuse_if_scoring_closed,
)
from evaluation.queries import evaluation_total_subquery
from evaluation.states import (
    EVALUATION_TRANSITIONS,
    AdmissibilityOutcome,
    ConflictStatus,
    EvaluationAction,
    EvaluationStatus,
)

evaluation_workflow = Workflow(
    transitions=EVALUATION_TRANSITIONS,
    statuses=EvaluationStatus,
    actions=EvaluationAction,
    history_model=EvaluationStatusChange,
    history_field="evaluation",
)


# --- Admissibility ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One admissibility check: ``ok`` is True, False, or None when it cannot be told yet."""

    code: str
    label: str
    ok: bool | None
    detail: str = ""


def admissibility_checks(candidature: Candidature) -> list[Check]:
    """What the platform can tell by itself about a submitted dossier."""
    call = candidature.call
    missing = [
        item.message for item in completeness(candidature) if item.anchor.startswith("piece-")
    ]
    checks = [
        Check(
            "pieces",
            _("Toutes les pièces obligatoires sont présentes"),
            not missing,
            "; ".join(missing),
        ),
        Check(
            "on_time",
            _("Exemplaire électronique déposé dans les délais"),
            candidature.submitted_at is not None
            and is_on_time(call.deadline, candidature.submitted_at),
        ),
    ]
    if call.paper_copy_required:
        paper = getattr(candidature, "paper_copy", None)
        checks += [
            Check("paper_received", _("Exemplaire papier reçu"), paper is not None),
            Check(
                "paper_on_time",
                _("Exemplaire papier dans les délais"),
                is_paper_copy_on_time(paper) if paper else None,
            ),
            Check(
                "paper_identical",
                _("Exemplaire papier identique à la version électronique"),
                None
                if paper is None or paper.identical == Identical.UNCHECKED
                else paper.identical == Identical.YES,
            ),
        ]
    kind = candidature.organisation.kind
    checks.append(
        Check(
            "eligible",
            _("Type de structure éligible"),
            kind in call.eligible_kinds,
            candidature.organisation.get_kind_display(),
        )
    )
    return checks


def decide_admissibility(candidature: Candidature, *, by: User, admissible: bool, reason: str = ""):
    """Record the instructeur's decision; an inadmissible dossier leaves the scoring and
    its members are told why by e-mail."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    if candidature.status != CandidatureStatus.SUBMITTED:
        raise DomainError(_("Seul un dossier déposé peut être déclaré recevable ou irrecevable."))
    reason = reason.strip()
    if not admissible and not reason:
        raise DomainError(
            _("Indiquez le motif de l'irrecevabilité : il est communiqué au candidat.")
        )
    if (
        Evaluation.objects.filter(
            assignment__candidature=candidature, status=EvaluationStatus.SUBMITTED
        ).exists()
        and not admissible
    ):
        raise DomainError(
            _(
                "Ce dossier a déjà des évaluations déposées : rouvrez-les avant de le déclarer irrecevable."
            )
        )
    # The inadmissibility is notified by a letter like a decision: frozen with it (again in
    # Admissibility.save, under the call's lock), corrected by rectify_admissibility.
    if notified := admissibility_frozen_reason(candidature.pk):
        raise DomainError(notified)
    if not admissible and candidature.decisions.exists():
        raise DomainError(
            _(
                "Ce dossier a déjà une décision du comité : il ne peut plus être déclaré irrecevable."
            )
        )
    call = candidature.call
    if call.is_open():
        raise DomainError(_("La recevabilité s'examine une fois la date limite passée."))
    outcome = AdmissibilityOutcome.ADMISSIBLE if admissible else AdmissibilityOutcome.INADMISSIBLE
    checks = [check.__dict__ for check in admissibility_checks(candidature)]
    with transaction.atomic():
        open_review(call, by=by)
        previous = Admissibility.objects.filter(candidature=candidature).first()
        candidature.admissibility, _created = Admissibility.objects.update_or_create(
            candidature=candidature,
            defaults={
                "outcome": outcome,
                "reason": reason,
                "checks": checks,
                "decided_by": by,
                "decided_at": timezone.now(),
            },
        )
        AdmissibilityChange.objects.create(
            candidature=candidature, outcome=outcome, reason=reason, by=by
        )
        if not admissible and (
            previous is None or previous.outcome != outcome or previous.reason != reason
        ):
            queue_email(
                to=member_emails(candidature.organisation),
                template="dossier_inadmissible",
                context={
                    "candidature": candidature,
                    "reason": reason,
                    "url": absolute_url("candidatures:dossier", pk=candidature.pk),
                },
            )
    return candidature.admissibility


def open_review(call: Call, *, by: User) -> Call:
    """The first act of instruction moves the call under review (closing it first if
    the sweep has not run since its deadline)."""
    if call.status == CallStatus.PUBLISHED:
        close_call(call, by=None, note=_("Clôture à la date limite de réception."))
    if call.status == CallStatus.CLOSED:
        start_review(
            call, by=by, note=_("Instruction ouverte avec la première décision de recevabilité.")
        )
    return call


# --- Scoring grid ------------------------------------------------------------------------------


def grid_of(call: Call) -> ScoringGrid:
    """The call's grid as saved, or the default one, unsaved: pages that only read never
    write a row (GET never writes)."""
    return ScoringGrid.objects.filter(call=call).first() or ScoringGrid(call=call)


def grid_for(call: Call) -> ScoringGrid:
    """The call's grid, created with the defaults if needed: for the services that write."""
    grid, _created = ScoringGrid.objects.get_or_create(call=call)
    return grid


def update_grid(
    call: Call,
    *,
    by: User,
    scale_max: int,
    levels: list[str],
    due_at: dt.datetime | None,
    evaluators_per_dossier: int,
    disagreement_threshold: Decimal,
    weights: dict[int, Decimal],
) -> ScoringGrid:
    """Set the grid; the scale and the weights change only until the grid is frozen."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    grid = grid_for(call)
    criteria = {criterion.pk: criterion for criterion in call.criteria.all()}
    if problem := weights_problem(weights.get(pk, c.weight) for pk, c in criteria.items()):
        raise DomainError(problem)
    if len(levels) != scale_max + 1 or any(not label.strip() for label in levels):
        raise DomainError(
            _("Donnez un libellé à chaque note, de 0 à %(max)s.") % {"max": scale_max}
        )
    changed_scale = scale_max != grid.scale_max
    changed_weights = any(weights[pk] != criteria[pk].weight for pk in weights if pk in criteria)
    if call.scoring_locked_at is not None and (changed_scale or changed_weights):
        refuse_if_grid_locked(call)
    with transaction.atomic():
        for pk, weight in weights.items():
            criterion = criteria[pk]
            if criterion.weight != weight:
                criterion.weight = weight
                criterion.save(update_fields=["weight"])
        grid.scale_max = scale_max
        grid.levels = [label.strip() for label in levels]
        grid.due_at = due_at
        grid.evaluators_per_dossier = evaluators_per_dossier
        grid.disagreement_threshold = disagreement_threshold
        grid.save()
    return grid


def lock_grid(call: Call) -> None:
    """Freeze the weights and store each sub-criterion's factor: called with the first
    evaluation submitted, inside its transaction."""
    locked = Call.objects.filter(pk=call.pk, scoring_locked_at__isnull=True).update(
        scoring_locked_at=timezone.now()
    )
    if not locked:
        return
    grid = grid_for(call)
    counts = dict(
        SubCriterion.objects.filter(criterion__call=call)
        .values("criterion")
        .annotate(n=Count("pk"))
        .values_list("criterion", "n")
    )
    SubCriterionFactor.objects.bulk_create(
        [
            SubCriterionFactor(
                grid=grid,
                subcriterion=sub,
                factor=(
                    sub.criterion.weight / (grid.scale_max * counts[sub.criterion_id])
                ).quantize(Decimal("0.0000000001")),
            )
            for sub in SubCriterion.objects.filter(criterion__call=call).select_related("criterion")
        ]
    )
    call.scoring_locked_at = Call.objects.values_list("scoring_locked_at", flat=True).get(
        pk=call.pk
    )


# --- Assignments and conflicts of interest ---------------------------------------------------


def _evaluators():
    return User.objects.with_role(Role.EVALUATEUR)


def assign(candidature: Candidature, evaluator: User, *, by: User) -> Assignment:
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    if not core_rules.is_evaluator(evaluator):
        raise DomainError(_("Cette personne n'a pas le rôle d'évaluateur."))
    admissibility = getattr(candidature, "admissibility", None)
    if admissibility is None or admissibility.outcome != AdmissibilityOutcome.ADMISSIBLE:
        raise DomainError(_("Seuls les dossiers recevables sont évalués."))
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                candidature=candidature, evaluator=evaluator, assigned_by=by
            )
    except IntegrityError:
        return Assignment.objects.get(candidature=candidature, evaluator=evaluator)
    queue_email(
        to=evaluator.email,
        template="evaluation_assigned",
        context={
            "candidature": candidature,
            "url": absolute_url("evaluation:my_evaluations"),
        },
        key=f"assigned-{assignment.pk}",
        user=evaluator,
    )
    return assignment


def assign_many(dossiers, evaluator: User, *, by: User) -> int:
    """``evaluator`` to each of ``dossiers`` (a bulk action), all or none: refused, naming
    them, while one of them is not admissible. Returns how many dossiers."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    dossiers = list(dossiers)
    outcomes = dict(
        Admissibility.objects.filter(candidature__in=dossiers).values_list(
            "candidature_id", "outcome"
        )
    )
    refused = [
        str(dossier.organisation)
        for dossier in dossiers
        if outcomes.get(dossier.pk) != AdmissibilityOutcome.ADMISSIBLE
    ]
    if refused:
        raise DomainError(
            _("Seuls les dossiers recevables sont évalués ; décochez : %(names)s.")
            % {"names": ", ".join(refused)}
        )
    with transaction.atomic():
        for dossier in dossiers:
            assign(dossier, evaluator, by=by)
    return len(dossiers)


def assign_lot(lot: Lot, *, by: User) -> int:
    """Every evaluator to every admissible dossier of ``lot``; returns how many were new."""
    from evaluation.queries import admissible_in_lot

    created = 0
    evaluators = list(_evaluators())
    for candidature in admissible_in_lot(lot).select_related("admissibility"):
        for evaluator in evaluators:
            before = Assignment.objects.filter(
                candidature=candidature, evaluator=evaluator
            ).exists()
            assign(candidature, evaluator, by=by)
            created += not before
    return created


def declare_conflict(
    assignment: Assignment, *, by: User, has_conflict: bool, note: str = ""
) -> Assignment:
    """Before reading a dossier, the evaluator declares a conflict of interest or none.

    A declared conflict removes them from the dossier for good (instructeurs see it)."""
    if not rules.is_own_assignment(by, assignment):
        raise PermissionDenied
    if assignment.conflict != ConflictStatus.UNDECLARED:
        raise DomainError(_("La déclaration a déjà été faite pour ce dossier."))
    if has_conflict and not note.strip():
        raise DomainError(_("Précisez la nature du lien avec le candidat."))
    assignment.conflict = ConflictStatus.CONFLICT if has_conflict else ConflictStatus.NONE
    assignment.conflict_note = note.strip()
    assignment.declared_at = timezone.now()
    assignment.save(update_fields=["conflict", "conflict_note", "declared_at"])
    return assignment


# --- Evaluations -------------------------------------------------------------------------------


def evaluation_of(assignment: Assignment) -> Evaluation:
    """The assignment's evaluation as saved, or a blank draft, unsaved: reading the scoring
    page creates nothing (GET never writes)."""
    return Evaluation.objects.filter(assignment=assignment).first() or Evaluation(
        assignment=assignment
    )


def evaluation_for(assignment: Assignment) -> Evaluation:
    """The assignment's evaluation, created if needed: for the services that write."""
    evaluation, _created = Evaluation.objects.get_or_create(assignment=assignment)
    return evaluation


def save_evaluation(
    assignment: Assignment,
    *,
    by: User,
    scores: dict[int, int | None],
    justifications: dict[int, str],
    comment: str,
) -> Evaluation:
    """Save the evaluator's draft: scores per sub-criterion, justification per criterion."""
    if not rules.can_score(by, assignment):
        raise PermissionDenied
    with transaction.atomic():
        refuse_if_scoring_closed(assignment.candidature_id)
        return _save_scores(assignment, scores, justifications, comment)


def _save_scores(assignment, scores, justifications, comment) -> Evaluation:
    evaluation = evaluation_for(assignment)
    if evaluation.status != EvaluationStatus.DRAFT:
        raise DomainError(
            _("Cette évaluation est déposée : demandez à un instructeur de la rouvrir.")
        )
    call = assignment.candidature.call
    grid = grid_for(call)
    subcriteria = set(
        SubCriterion.objects.filter(criterion__call=call).values_list("pk", flat=True)
    )
    criteria = set(call.criteria.values_list("pk", flat=True))
    with transaction.atomic():
        for sub_id, value in scores.items():
            if sub_id not in subcriteria:
                raise PermissionDenied
            if value is None:
                Score.objects.filter(evaluation=evaluation, subcriterion_id=sub_id).delete()
                continue
            if not 0 <= value <= grid.scale_max:
                raise DomainError(_("Une note va de 0 à %(max)s.") % {"max": grid.scale_max})
            Score.objects.update_or_create(
                evaluation=evaluation, subcriterion_id=sub_id, defaults={"value": value}
            )
        for criterion_id, text in justifications.items():
            if criterion_id not in criteria:
                raise PermissionDenied
            Justification.objects.update_or_create(
                evaluation=evaluation, criterion_id=criterion_id, defaults={"text": text.strip()}
            )
        evaluation.overall_comment = comment.strip()
        evaluation.save(update_fields=["overall_comment", "updated_at"])
    return evaluation


def evaluation_gaps(evaluation: Evaluation) -> list[str]:
    call = evaluation.assignment.candidature.call
    scored = set(evaluation.scores.values_list("subcriterion_id", flat=True))
    justified = {j.criterion_id for j in evaluation.justifications.all() if j.text.strip()}
    gaps = []
    for criterion in call.criteria.prefetch_related("subcriteria"):
        for sub in criterion.subcriteria.all():
            if sub.pk not in scored:
                gaps.append(_("Note manquante : %(s)s") % {"s": sub.title})
        if criterion.pk not in justified:
            gaps.append(_("Justification manquante : %(c)s") % {"c": criterion.title})
    return gaps


def submit_evaluation(evaluation: Evaluation, *, by: User) -> Evaluation:
    """Lock the evaluation; the first one submitted for a call freezes its grid."""
    assignment = evaluation.assignment
    if not rules.can_score(by, assignment):
        raise PermissionDenied
    refuse_if_scoring_closed(assignment.candidature_id)  # again below, under the lock
    admissibility = getattr(assignment.candidature, "admissibility", None)
    if admissibility is None or admissibility.outcome != AdmissibilityOutcome.ADMISSIBLE:
        raise DomainError(_("Ce dossier n'est plus recevable : il ne s'évalue plus."))
    if gaps := evaluation_gaps(evaluation):
        raise DomainError(_("L'évaluation est incomplète."), problems=gaps)
    call = assignment.candidature.call

    with transaction.atomic():
        refuse_if_scoring_closed(assignment.candidature_id)
        lock_grid(call)
        row = evaluation_workflow.apply(
            evaluation, EvaluationAction.SUBMIT, by=by, updates={"submitted_at": timezone.now()}
        )
        Evaluation.objects.filter(pk=row.pk).update(total=evaluation_total_subquery())
    evaluation.refresh_from_db()
    return evaluation


def reopen_evaluation(evaluation: Evaluation, *, by: User, note: str) -> Evaluation:
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    if not note.strip():
        raise DomainError(_("Indiquez pourquoi l'évaluation est rouverte."))
    with transaction.atomic():
        refuse_if_scoring_closed(evaluation.assignment.candidature_id)
        evaluation_workflow.apply(
            evaluation,
            EvaluationAction.REOPEN,
            by=by,
            note=note.strip(),
            updates={"submitted_at": None, "total": None},
        )
    return evaluation
