"""Writes of the committee's stage: consensus scores, the DDETS's opinions, decisions and
their rectifications, each with its history row.

A decision is frozen once notified (``evaluation.models.decisions``); it then changes
only through ``rectify_decision``, which records the act, issues a new letter and
leaves the public list of selected organisations dated. A notified inadmissibility is
corrected by ``rectify_admissibility``, one act that admits the dossier and carries the
committee's decision on each of its lots."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.models import Lot
from candidatures.models import Candidature
from core.exceptions import DomainError
from core.models import User
from core.models.history import snapshot
from evaluation import letters, rules
from evaluation.models import (
    Admissibility,
    AdmissibilityChange,
    AdmissibilityRectification,
    Consensus,
    ConsensusRevision,
    Decision,
    DecisionRectification,
    NotificationLetter,
    Opinion,
    OpinionRevision,
    decision_frozen_reason,
    refuse_if_decision_frozen,
    refuse_if_scoring_closed,
)
from evaluation.states import AdmissibilityOutcome, DecisionOutcome

CONSENSUS_FIELDS = ["total", "reason"]
OPINION_FIELDS = ["kind", "comment"]


def set_consensus(candidature: Candidature, *, by: User, total: Decimal, reason: str) -> Consensus:
    """The score agreed in a harmonisation meeting; every value set is kept in order."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    if not reason.strip():
        raise DomainError(_("Indiquez le motif de la note de consensus."))
    if not Decimal(0) <= total <= Decimal(100):
        raise DomainError(_("La note de consensus va de 0 à 100."))
    refuse_if_scoring_closed(candidature.pk)
    with transaction.atomic():
        previous = Consensus.objects.select_for_update().filter(candidature=candidature).first()
        before = snapshot(previous, CONSENSUS_FIELDS) if previous else None
        consensus, _created = Consensus.objects.update_or_create(
            candidature=candidature,
            defaults={
                "total": total,
                "reason": reason.strip(),
                "set_by": by,
                "set_at": timezone.now(),
            },
        )
        consensus.refresh_from_db(fields=CONSENSUS_FIELDS)  # amounts as stored: "70,00"
        after = snapshot(consensus, CONSENSUS_FIELDS)
        if before != after:
            ConsensusRevision.objects.create(
                candidature=candidature,
                action="update" if previous else "set",
                by=by,
                before=before,
                after=after,
                note=reason.strip(),
            )
    return consensus


def record_opinion(candidature: Candidature, *, by: User, kind: str, comment: str) -> Opinion:
    """The DDETS's opinion on a dossier: its only write. A revision keeps the previous
    versions in the opinion's history."""
    if not rules.can_give_opinion(by, candidature):
        raise PermissionDenied
    with transaction.atomic():
        previous = (
            Opinion.objects.select_for_update().filter(candidature=candidature, author=by).first()
        )
        before = snapshot(previous, OPINION_FIELDS) if previous else None
        opinion, _created = Opinion.objects.update_or_create(
            candidature=candidature,
            author=by,
            defaults={"kind": kind, "comment": comment.strip(), "updated_at": timezone.now()},
        )
        after = snapshot(opinion, OPINION_FIELDS)
        if before != after:
            OpinionRevision.objects.create(
                opinion=opinion,
                action="revise" if previous else "give",
                by=by,
                before=before,
                after=after,
            )
    return opinion


# --- Decisions --------------------------------------------------------------------------------


def _values(outcome: str, amount_granted, fte_granted):
    """The outcome with the amount and FTE it carries (none unless selected)."""
    if outcome not in DecisionOutcome.values:
        raise DomainError(_("Choisissez une décision."))
    if outcome == DecisionOutcome.SELECTED:
        if amount_granted is None or fte_granted is None:
            raise DomainError(_("Un dossier retenu a un montant et des ETP attribués."))
        return outcome, amount_granted, fte_granted
    return outcome, None, None


def _check_budget(lot: Lot, candidature_id: int, outcome: str, amount) -> None:
    """Called with the lot's row locked: the amounts granted stay within its budget."""
    if outcome != DecisionOutcome.SELECTED or lot.budget is None:
        return
    others = Decision.objects.filter(lot=lot, outcome=DecisionOutcome.SELECTED).exclude(
        candidature_id=candidature_id
    ).aggregate(total=Sum("amount_granted"))["total"] or Decimal(0)
    if others + amount > lot.budget:
        raise DomainError(
            _(
                "Les montants attribués sur le lot « %(lot)s » dépasseraient son budget "
                "(%(budget)s €) : déjà %(others)s € attribués."
            )
            % {"lot": lot.name, "budget": lot.budget, "others": others}
        )


def record_decision(
    candidature: Candidature,
    lot: Lot,
    *,
    by: User,
    outcome: str,
    amount_granted: Decimal | None = None,
    fte_granted: Decimal | None = None,
    reason: str = "",
    deliberation: str = "",
) -> Decision:
    """The committee's decision for one lot; the amounts granted stay within the budget.
    ``deliberation`` is the reference of the assembly's act that grants it (published as
    the open data's referenceDecision). Refused once the decision is notified:
    ``rectify_decision`` then."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    refuse_if_decision_frozen(candidature.pk)  # again in Decision.save, under the lock
    if not candidature.lots.filter(pk=lot.pk).exists():
        raise DomainError(_("Ce dossier ne candidate pas sur ce lot."))
    # An inadmissible dossier is notified as such: a decision would still count against the
    # budget, lead to an agreement and appear among the selected on the public page.
    if not Admissibility.objects.filter(
        candidature=candidature, outcome=AdmissibilityOutcome.ADMISSIBLE
    ).exists():
        raise DomainError(_("Seul un dossier recevable reçoit une décision du comité."))
    outcome, amount_granted, fte_granted = _values(outcome, amount_granted, fte_granted)
    if outcome == DecisionOutcome.NOT_SELECTED and not reason.strip():
        raise DomainError(_("Indiquez le motif de la décision de non-retenue."))
    with transaction.atomic():
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        _check_budget(lot, candidature.pk, outcome, amount_granted)
        decision, _created = Decision.objects.update_or_create(
            candidature=candidature,
            lot=lot,
            defaults={
                "outcome": outcome,
                "amount_granted": amount_granted,
                "fte_granted": fte_granted,
                "reason": reason.strip(),
                "deliberation": " ".join(deliberation.split()),
                "decided_by": by,
                "decided_at": timezone.now(),
            },
        )
    return decision


def _rectification(
    row: Decision, lot: Lot, *, by: User, outcome, amount_granted, fte_granted, reason
) -> DecisionRectification:
    """The rectification of ``row`` as it would be recorded, unsaved, or the refusal."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise DomainError(
            _("Indiquez le motif de la rectification : il est communiqué au candidat.")
        )
    outcome, amount_granted, fte_granted = _values(outcome, amount_granted, fte_granted)
    if decision_frozen_reason(row.candidature_id) is None:
        raise DomainError(
            _(
                "Cette décision n'est pas encore notifiée : elle se modifie par le "
                "formulaire de décision, sans rectification."
            )
        )
    if (row.outcome, row.amount_granted, row.fte_granted) == (
        outcome,
        amount_granted,
        fte_granted,
    ):
        raise DomainError(
            _("La rectification ne change ni la décision, ni le montant, ni les ETP.")
        )
    _check_budget(lot, row.candidature_id, outcome, amount_granted)
    return DecisionRectification(
        decision=row,
        reason=reason,
        by=by,
        old_outcome=row.outcome,
        old_amount=row.amount_granted,
        old_fte=row.fte_granted,
        new_outcome=outcome,
        new_amount=amount_granted,
        new_fte=fte_granted,
    )


def preview_rectification(
    decision: Decision,
    *,
    by: User,
    outcome: str,
    amount_granted: Decimal | None = None,
    fte_granted: Decimal | None = None,
    reason: str,
    opening: str = "",
    closing: str = "",
) -> NotificationLetter:
    """The letter a rectification would send, checked as ``rectify_decision`` checks it,
    unsaved: staff read it before they confirm, and nothing is written."""
    rectification = _rectification(
        decision,
        decision.lot,
        by=by,
        outcome=outcome,
        amount_granted=amount_granted,
        fte_granted=fte_granted,
        reason=reason,
    )
    return letters.rectification_letter(rectification, opening=opening, closing=closing)


def rectify_decision(
    decision: Decision,
    *,
    by: User,
    outcome: str,
    amount_granted: Decimal | None = None,
    fte_granted: Decimal | None = None,
    reason: str,
    opening: str = "",
    closing: str = "",
) -> DecisionRectification:
    """Change a notified decision by a recorded act: the reason, who, when, the old and
    new outcome, amount and FTE; the decision's history row; a new letter to the
    organisation (rendered and e-mailed by a task after commit), with staff's paragraphs
    or the usual ones. The public list of selected organisations then follows the
    decision, dated by the rectification, and an agreement prepared on the decision shows
    it (``queries.rectifications_of``)."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    with transaction.atomic():
        # Lot, then decision, then call (in Decision.save): the order record_decision takes.
        lot = Lot.objects.select_for_update().get(pk=decision.lot_id)
        row = Decision.objects.select_for_update().get(pk=decision.pk)
        rectification = _rectification(
            row,
            lot,
            by=by,
            outcome=outcome,
            amount_granted=amount_granted,
            fte_granted=fte_granted,
            reason=reason,
        )
        rectification.save()
        row.outcome = rectification.new_outcome
        row.amount_granted, row.fte_granted = rectification.new_amount, rectification.new_fte
        row.reason, row.decided_by, row.decided_at = rectification.reason, by, rectification.at
        row.save(by=by, note=rectification.reason, rectification=rectification)
        letters.issue_rectification_letter(rectification, by=by, opening=opening, closing=closing)
    decision.refresh_from_db()
    return rectification


# --- Rectifying a notified inadmissibility ----------------------------------------------------


def admissibility_rectification_problem(candidature: Candidature) -> str | None:
    """Why the dossier's inadmissibility cannot be rectified, in French, or None: only a
    notified inadmissibility is; before its notification the ordinary form corrects it."""
    admissibility = Admissibility.objects.filter(candidature=candidature).first()
    if admissibility is None or admissibility.outcome != AdmissibilityOutcome.INADMISSIBLE:
        return _(
            "Ce dossier n'est pas déclaré irrecevable : il n'y a pas d'irrecevabilité à rectifier."
        )
    if decision_frozen_reason(candidature.pk) is None:
        return _(
            "L'irrecevabilité de ce dossier n'est pas encore notifiée : elle se corrige par "
            "le formulaire de recevabilité, sans rectification."
        )
    return None


def _admission(
    candidature: Candidature, lots: list[Lot], *, by: User, reason: str, decisions: dict
) -> AdmissibilityRectification:
    """The act as it would be recorded, unsaved, or the refusal. ``lots`` are the
    dossier's, locked by the caller when it writes."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise DomainError(
            _("Indiquez le motif de la rectification : il est communiqué au candidat.")
        )
    if problem := admissibility_rectification_problem(candidature):
        raise DomainError(problem)
    admissibility = Admissibility.objects.get(candidature=candidature)
    given = {getattr(key, "pk", key): values for key, values in decisions.items()}
    if set(given) - {lot.pk for lot in lots}:
        raise DomainError(_("Ce dossier ne candidate pas sur ce lot."))
    rows = []
    for lot in lots:
        values = given.get(lot.pk) or {}
        if not values.get("outcome"):
            raise DomainError(
                _("Indiquez la décision du comité pour le lot « %(lot)s ».") % {"lot": lot.name}
            )
        outcome, amount, fte = _values(
            values["outcome"], values.get("amount_granted"), values.get("fte_granted")
        )
        decision_reason = (values.get("reason") or "").strip()
        if outcome == DecisionOutcome.NOT_SELECTED and not decision_reason:
            raise DomainError(
                _("Indiquez le motif de la décision de non-retenue (lot « %(lot)s »).")
                % {"lot": lot.name}
            )
        _check_budget(lot, candidature.pk, outcome, amount)
        rows.append(
            {
                "lot": lot.pk,
                "lot_name": lot.name,
                "outcome": outcome,
                "amount": None if amount is None else str(amount),
                "fte": None if fte is None else str(fte),
                "reason": decision_reason,
                "deliberation": " ".join((values.get("deliberation") or "").split()),
            }
        )
    return AdmissibilityRectification(
        candidature=candidature,
        reason=reason,
        by=by,
        old_outcome=admissibility.outcome,
        old_reason=admissibility.reason,
        old_decided_at=admissibility.decided_at,
        new_outcome=AdmissibilityOutcome.ADMISSIBLE,
        decisions=rows,
    )


def preview_admissibility_rectification(
    candidature: Candidature,
    *,
    by: User,
    reason: str,
    decisions: dict,
    opening: str = "",
    closing: str = "",
) -> NotificationLetter:
    """The letter ``rectify_admissibility`` would send, checked as it checks it, unsaved:
    staff read it before they confirm, and nothing is written."""
    lots = list(candidature.lots.order_by("position", "pk"))
    act = _admission(candidature, lots, by=by, reason=reason, decisions=decisions)
    return letters.admissibility_rectification_letter(act, opening=opening, closing=closing)


def rectify_admissibility(
    candidature: Candidature,
    *,
    by: User,
    reason: str,
    decisions: dict,
    opening: str = "",
    closing: str = "",
) -> AdmissibilityRectification:
    """Correct a notified inadmissibility by a recorded act (a recours gracieux showed the
    missing piece was attached): the reason, who, when, the old and new admissibility;
    its history row; the dossier admissible; and, since the call's decisions are notified
    and the committee re-examined the dossier, the committee's decision on each of its
    lots (``decisions``: lot id → outcome, amount_granted, fte_granted, reason and the
    deliberation's reference, frozen with them), checked
    as ``record_decision`` checks them and frozen at once. One new letter tells the
    organisation (rendered and e-mailed by a task after commit); the public list of
    selected organisations follows, dated by the act."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    with transaction.atomic():
        # Lots (budget), then the admissibility, then the call (in the saves): a second
        # act on the same dossier waits here, then finds it admissible and is refused.
        lots = list(
            Lot.objects.select_for_update()
            .filter(candidatures=candidature)
            .order_by("position", "pk")
        )
        # None for a dossier never declared: _admission refuses it in French.
        admissibility = (
            Admissibility.objects.select_for_update().filter(candidature=candidature).first()
        )
        act = _admission(candidature, lots, by=by, reason=reason, decisions=decisions)
        act.save()
        admissibility.outcome, admissibility.reason = act.new_outcome, act.reason
        admissibility.decided_by, admissibility.decided_at = by, act.at
        admissibility.save(rectification=act)
        AdmissibilityChange.objects.create(
            candidature=candidature,
            outcome=act.new_outcome,
            reason=act.reason,
            by=by,
            at=act.at,
            rectification=act,
        )
        for row in act.decision_rows():
            Decision(
                candidature=candidature,
                lot_id=row.lot_id,
                outcome=row.outcome,
                amount_granted=row.amount_granted,
                fte_granted=row.fte_granted,
                reason=row.reason,
                deliberation=row.deliberation,
                decided_by=by,
                decided_at=act.at,
            ).save(by=by, note=act.reason, rectification=act)
        letters.issue_admissibility_rectification_letter(
            act, by=by, opening=opening, closing=closing
        )
    candidature.admissibility = admissibility
    return act


def granted_in_lot(lot: Lot) -> dict:
    return Decision.objects.filter(lot=lot, outcome=DecisionOutcome.SELECTED).aggregate(
        amount=Sum("amount_granted"), fte=Sum("fte_granted")
    )
