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
    # A dossier admitted by a rectification: its decisions are notified by that act's
    # letter, not by the first one (which told the inadmissibility).
    admitted = set(
        AdmissibilityRectification.objects.filter(candidature__in=ids).values_list(
            "candidature_id", flat=True
        )
    )
    sent = _sent_letters(ids).values_list("candidature_id", "kind", "admissibility_rectification")
    notified = {
        pk
        for pk, kind, admission in sent
        if (kind == LetterKind.DECISION and pk not in admitted) or admission is not None
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


def events(dossiers) -> dict[int, list[Event]]:
    ids = [dossier.pk for dossier in dossiers]
    found = defaultdict(list)
    admissions = {
        act.candidature_id: act
        for act in AdmissibilityRectification.objects.filter(candidature__in=ids)
    }
    for act in admissions.values():
        found[act.candidature_id].append(
            Event(act.old_decided_at, _("Dossier déclaré irrecevable"), act.old_reason)
        )
    for admissibility in Admissibility.objects.filter(candidature__in=ids):
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
    for letter in _sent_letters(ids):
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
