"""What a candidate reads of the evaluation of their dossier (``candidatures.outcomes``):
« Irrecevable » once declared so (the candidate is told at once), « Retenu »,
« Liste d'attente » or « Non retenu » per lot once the decision letter has left, and the
timeline's admissibility, notification and rectifications. Nothing shows before it was
told: a decision taken but not notified stays the committee's."""

from collections import defaultdict

from django.utils.translation import gettext as _

from candidatures.outcomes import Event, Outcome
from evaluation.models import Admissibility, Decision, NotificationLetter
from evaluation.states import AdmissibilityOutcome, DecisionOutcome, LetterKind, LetterStatus

TONES = {
    DecisionOutcome.SELECTED: "success",
    DecisionOutcome.WAITING_LIST: "warning",
    DecisionOutcome.NOT_SELECTED: "secondary",
}


def _sent_letters(ids):
    return NotificationLetter.objects.filter(candidature__in=ids, status=LetterStatus.SENT)


def outcomes(dossiers) -> dict[int, list[Outcome]]:
    ids = [dossier.pk for dossier in dossiers]
    found = defaultdict(list)
    inadmissible = set(
        Admissibility.objects.filter(
            candidature__in=ids, outcome=AdmissibilityOutcome.INADMISSIBLE
        ).values_list("candidature_id", flat=True)
    )
    for pk in inadmissible:
        found[pk].append(Outcome(_("Irrecevable"), "danger"))
    notified = (
        set(
            _sent_letters(ids)
            .filter(kind=LetterKind.DECISION)
            .values_list("candidature_id", flat=True)
        )
        - inadmissible
    )
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


def events(dossiers) -> dict[int, list[Event]]:
    ids = [dossier.pk for dossier in dossiers]
    found = defaultdict(list)
    for admissibility in Admissibility.objects.filter(candidature__in=ids):
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
    for letter in _sent_letters(ids):
        label = (
            _("Décision notifiée (lettre envoyée)")
            if letter.kind == LetterKind.DECISION
            else _("Décision rectifiée (nouvelle lettre envoyée)")
        )
        found[letter.candidature_id].append(Event(letter.sent_at, label))
    return found
