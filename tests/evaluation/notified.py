"""A call decided as staff decide it, for the tests of decisions, rectifications and
letters: four dossiers on lot 1, one of each outcome (selected, not selected, waiting
list, inadmissible), the lot's committee record frozen at a quorate meeting, then the
decisions notified and the letters sent (the task runs eagerly after commit)."""

from decimal import Decimal

from aap.models import Lot
from evaluation import committee, letters, services
from evaluation.models import NotificationLetter
from evaluation.states import AdmissibilityOutcome, LetterKind
from tests.evaluation.conftest import admitted, score
from tests.evaluation.meetings import quorate_meeting

ALPHA = "Communauté de communes Alpha"
BETA = "GIP Bêta"
GAMMA = "Association Gamma"
DELTA = "Régie Delta"
NOT_SELECTED_REASON = "Couverture territoriale insuffisante."
INADMISSIBLE_REASON = "Attestation d'engagement non signée."
E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 81.25


def decide(call, *, instructeur, evaluator, freeze=True):
    """The four dossiers and their decisions, lot 1's record frozen (unless ``freeze`` is
    False); nothing notified."""
    lot = call.lots.order_by("position").first()
    alpha, beta, gamma, delta = admitted(
        call, [ALPHA, BETA, GAMMA, DELTA], by_instructeur=instructeur, lot=lot
    )
    services.decide_admissibility(
        delta, by=instructeur, admissible=False, reason=INADMISSIBLE_REASON
    )
    score(alpha, evaluator, by_instructeur=instructeur, points=E1)
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("24500"),
        fte_granted=Decimal("0.5"),
    )
    services.record_decision(
        beta, lot, by=instructeur, outcome="not_selected", reason=NOT_SELECTED_REASON
    )
    services.record_decision(gamma, lot, by=instructeur, outcome="waiting_list")
    if freeze:
        freeze_every_lot(call, by=instructeur)
    return {"lot": lot, "alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}


def freeze_every_lot(call, *, by):
    """Each lot with an admissible dossier gets its record, at one quorate meeting."""
    meeting = quorate_meeting(call, by=by)
    lots = Lot.objects.filter(
        call=call, candidatures__admissibility__outcome=AdmissibilityOutcome.ADMISSIBLE
    ).distinct()
    for lot in lots:
        committee.freeze_committee(call, lot, by=by, meeting=meeting)


def notify(call, *, by, capture):
    """Confirm the letters, then run what waits for the commit: the letter tasks (eager)
    and the e-mails they queue."""
    with capture(execute=True):
        queued = letters.notify_decisions(call, by=by)
    return queued


def decision_letter(candidature) -> NotificationLetter:
    return NotificationLetter.objects.get(candidature=candidature, kind=LetterKind.DECISION)


def stored(letter) -> bytes:
    with letter.pdf.open("rb") as handle:
        return handle.read()
