"""What a candidate reads of the evaluation of their dossier (``candidatures.outcomes``):
« Irrecevable » once declared so (the candidate is told at once), « Retenu »,
« Liste d'attente » or « Non retenu » per lot once the decision letter has left, and the
timeline's admissibility, notification and rectifications. Nothing shows before it was
told: a decision taken but not notified stays the committee's. A notified inadmissibility
rectified shows as what the new letter says (the dossier admissible, the committee's
decisions), once that letter has left; the timeline keeps the inadmissibility before it."""

from collections import defaultdict

from django.utils.translation import gettext as _

from candidatures.outcomes import Event, Outcome
from evaluation.models import (
    Admissibility,
    AdmissibilityRectification,
    Decision,
    NotificationLetter,
)
from evaluation.states import AdmissibilityOutcome, DecisionOutcome, LetterKind, LetterStatus

TONES = {
    DecisionOutcome.SELECTED: "success",
    DecisionOutcome.WAITING_LIST: "warning",
    DecisionOutcome.NOT_SELECTED: "secondary",
}


def _sent_letters(ids):
    return NotificationLetter.objects.filter(candidature__in=ids, status=LetterStatus.SENT)


def outcomes_and_events(dossiers, *, events: bool = False):
    """The dossiers' outcomes and, when asked, their events, from one reading of their
    admissibility, its rectifications and their sent letters."""
    ids = [dossier.pk for dossier in dossiers]
    admissibilities = list(Admissibility.objects.filter(candidature__in=ids))
    admissions = {
        act.candidature_id: act
        for act in AdmissibilityRectification.objects.filter(candidature__in=ids)
    }
    letters = list(_sent_letters(ids))
    found_outcomes = _outcomes(admissibilities, admissions, letters)
    found_events = _events(admissibilities, admissions, letters) if events else {}
    return found_outcomes, found_events


def _outcomes(admissibilities, admissions, letters) -> dict[int, list[Outcome]]:
    found = defaultdict(list)
    inadmissible = {
        row.candidature_id
        for row in admissibilities
        if row.outcome == AdmissibilityOutcome.INADMISSIBLE
    }
    for pk in inadmissible:
        found[pk].append(Outcome(_("Irrecevable"), "danger"))
    # A dossier admitted by a rectification: its decisions are notified by that act's
    # letter, not by the first one (which told the inadmissibility).
    notified = {
        letter.candidature_id
        for letter in letters
        if (letter.kind == LetterKind.DECISION and letter.candidature_id not in admissions)
        or letter.admissibility_rectification_id is not None
    } - inadmissible
    decisions = (
        Decision.objects.filter(candidature__in=notified)
        .select_related("lot")
        .order_by("candidature_id", "lot__position", "lot_id")
    )
    by_dossier = defaultdict(list)
    for decision in decisions:
        by_dossier[decision.candidature_id].append(decision)
    labels = dict(DecisionOutcome.choices)
    for pk, dossier_decisions in by_dossier.items():
        several = len(dossier_decisions) > 1
        for decision in dossier_decisions:
            label = str(labels[decision.outcome])
            if several:
                label = _("%(outcome)s – lot %(lot)s") % {
                    "outcome": label,
                    "lot": decision.lot.name,
                }
            found[pk].append(Outcome(label, TONES[decision.outcome]))
    return found


def _events(admissibilities, admissions, letters) -> dict[int, list[Event]]:
    found = defaultdict(list)
    for act in admissions.values():
        found[act.candidature_id].append(
            Event(act.old_decided_at, _("Dossier déclaré irrecevable"), act.old_reason)
        )
    for admissibility in admissibilities:
        if admissibility.candidature_id in admissions:
            continue  # admitted by the rectification: told by its letter, below
        if admissibility.outcome == AdmissibilityOutcome.ADMISSIBLE:
            found[admissibility.candidature_id].append(
                Event(admissibility.decided_at, _("Dossier déclaré recevable"))
            )
        else:
            found[admissibility.candidature_id].append(
                Event(
                    admissibility.decided_at, _("Dossier déclaré irrecevable"), admissibility.reason
                )
            )
    for letter in letters:
        detail = ""
        if letter.admissibility_rectification_id is not None:
            label = _(
                "Irrecevabilité rectifiée : dossier déclaré recevable, décision du comité "
                "notifiée (nouvelle lettre envoyée)"
            )
            detail = admissions[letter.candidature_id].reason
        elif letter.kind == LetterKind.DECISION:
            label = _("Décision notifiée (lettre envoyée)")
        else:
            label = _("Décision rectifiée (nouvelle lettre envoyée)")
        found[letter.candidature_id].append(Event(letter.sent_at, label, detail))
    return found
