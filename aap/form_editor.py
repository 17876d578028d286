"""The questions of a call's funding-request form: add, change, delete, move.

Every change runs under the lock of the call's row (``refuse_unless_structure_editable``):
a publication running at the same time waits for it or refuses it, and two instructeurs
moving questions at once do not interleave. After each change the positions read
1, 2, … n, so that « monter » and « descendre » always mean the neighbour's place.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from aap import rules
from aap.models import Call, Question, QuestionKind
from aap.models.calls import refuse_unless_structure_editable
from core.exceptions import DomainError
from core.models import User

# What a person sets on a question; the position is the editor's business.
EDITABLE_FIELDS = (
    "section",
    "label",
    "kind",
    "required",
    "help_text",
    "max_length",
    "choices",
    "meaning",
)

UP, DOWN = "up", "down"


class OrderChanged(DomainError):
    """The list moved since the person saw it (another tab, another instructeur)."""


def _check(call: Call, by: User) -> None:
    if not rules.can_manage_call(by, call):
        raise PermissionDenied
    refuse_unless_structure_editable(call.pk)


def _refuse_second_lots_question(call: Call, kind: str, *, exclude: int | None = None) -> None:
    if kind != QuestionKind.LOTS:
        return
    others = Question.objects.filter(call=call, kind=QuestionKind.LOTS).exclude(pk=exclude)
    if others.exists():
        raise DomainError(_("Une seule question peut porter sur le choix des lots."))


def renumber(call: Call) -> list[Question]:
    """Positions 1..n in the current order; the caller holds the call's lock."""
    questions = list(Question.objects.filter(call=call).order_by("position", "pk"))
    changed = []
    for position, question in enumerate(questions, start=1):
        if question.position != position:
            question.position = position
            changed.append(question)
    # The call is locked and checked as a draft: one UPDATE, not one save per question.
    Question.objects.bulk_update(changed, ["position"])
    return questions


def add_question(call: Call, *, by: User, values: dict) -> Question:
    """Add a question at the end of the form."""
    with transaction.atomic():
        _check(call, by)
        _refuse_second_lots_question(call, values.get("kind"))
        question = Question(call=call, position=len(renumber(call)) + 1)
        for name in EDITABLE_FIELDS:
            if name in values:
                setattr(question, name, values[name])
        question.save()
    return question


def update_question(question: Question, *, by: User, values: dict) -> Question:
    with transaction.atomic():
        _check(question.call, by)
        _refuse_second_lots_question(question.call, values.get("kind"), exclude=question.pk)
        fields = [name for name in EDITABLE_FIELDS if name in values]
        for name in fields:
            setattr(question, name, values[name])
        question.save(update_fields=fields)
    return question


def delete_question(question: Question, *, by: User) -> None:
    """Delete a question; the answers already saved in draft dossiers go with it."""
    call = question.call
    with transaction.atomic():
        _check(call, by)
        question.delete()
        renumber(call)


def move_question(
    question: Question, *, by: User, direction: str, seen_position: int | None = None
) -> bool:
    """Swap ``question`` with its neighbour above (``UP``) or below (``DOWN``); False when
    it is already first or last. ``seen_position``: where the person saw it; when it is
    elsewhere now, the move is refused rather than made on a list nobody saw."""
    if direction not in (UP, DOWN):
        raise DomainError(_("Déplacement inconnu."))
    call = question.call
    with transaction.atomic():
        _check(call, by)
        questions = renumber(call)
        ids = [item.pk for item in questions]
        if question.pk not in ids:
            raise DomainError(_("Cette question n'existe plus."))
        index = ids.index(question.pk)
        if seen_position is not None and seen_position != index + 1:
            raise OrderChanged(
                _("L'ordre des questions a changé entre-temps : vérifiez la liste à jour.")
            )
        other = index - 1 if direction == UP else index + 1
        if not 0 <= other < len(questions):
            return False
        questions[index], questions[other] = questions[other], questions[index]
        for position, item in enumerate(questions, start=1):
            item.position = position
        Question.objects.bulk_update([questions[index], questions[other]], ["position"])
    question.position = other + 1
    return True
