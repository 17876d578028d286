"""What the evaluation knows that forbids classing a call « sans suite » (``aap.abandon``):
a dossier already selected, or a decision letter already sent (an act that has left)."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aap.models import Call
from evaluation.models import Decision, NotificationLetter
from evaluation.states import DecisionOutcome, LetterStatus


def abandon_problems(call: Call) -> list[str]:
    problems = []
    selected = (
        Decision.objects.filter(candidature__call=call, outcome=DecisionOutcome.SELECTED)
        .values("candidature")
        .distinct()
        .count()
    )
    if selected:
        problems.append(
            ngettext(
                "%(n)d dossier est retenu : l'appel à projets ne peut pas être classé sans suite.",
                "%(n)d dossiers sont retenus : l'appel à projets ne peut pas être classé sans "
                "suite.",
                selected,
            )
            % {"n": selected}
        )
    sent = NotificationLetter.objects.filter(candidature__call=call).exclude(
        status=LetterStatus.DRAFT
    )
    if sent.exists():
        problems.append(
            _(
                "Des décisions ont déjà été notifiées : l'appel à projets ne peut plus être "
                "classé sans suite."
            )
        )
    return problems
