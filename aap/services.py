"""Every write on calls that matters: status moves, readiness, questions and answers."""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from aap import notices, rules
from aap.deadlines import is_on_time
from aap.models import Call, CallQuestion, CallStatusChange
from aap.states import CALL_TRANSITIONS, CallAction, CallStatus
from core.dates import to_the_second
from core.exceptions import DomainError
from core.mail import queue_email
from core.models import User
from core.roles import Role
from core.workflow import Workflow

WEIGHTS_TOTAL = Decimal("100")

call_workflow = Workflow(
    transitions=CALL_TRANSITIONS,
    statuses=CallStatus,
    actions=CallAction,
    history_model=CallStatusChange,
    history_field="call",
)


class CallNotReady(DomainError):
    """The call lacks what a candidate needs; ``problems`` lists each gap in French."""


def weights_problem(weights: Iterable[Decimal | None]) -> str | None:
    """The weights rule: the criteria's weights add up to exactly 100."""
    total = sum((weight or Decimal("0") for weight in weights), Decimal("0"))
    if total != WEIGHTS_TOTAL:
        return _(
            "La somme des pondérations doit être égale à 100 %% (elle est de %(total)s %%)."
        ) % {"total": number_format(total, decimal_pos=2)}
    return None


def call_problems(call: Call, *, when=None) -> list[str]:
    """What prevents publishing ``call``, in French; an empty list when it is ready."""
    when = when or timezone.now()
    problems = []
    lots = list(call.lots.all())
    criteria = list(call.criteria.prefetch_related("subcriteria"))
    if not lots:
        problems.append(_("Ajoutez au moins un lot."))
    if not criteria:
        problems.append(_("Ajoutez les critères de sélection."))
    else:
        if problem := weights_problem(criterion.weight for criterion in criteria):
            problems.append(problem)
        for criterion in criteria:
            if not criterion.subcriteria.all():
                problems.append(
                    _("Le critère « %(title)s » n'a pas de sous-critère.")
                    % {"title": criterion.title}
                )
    if not call.required_documents.exists():
        problems.append(_("Indiquez les pièces à fournir."))
    if not call.eligible_kinds:
        problems.append(_("Indiquez les types de structures éligibles."))
    if not is_on_time(call.deadline, when):
        problems.append(_("La date limite de réception des dossiers est déjà passée."))
    if call.paper_copy_required and not call.paper_mail_address and not call.hand_delivery_address:
        problems.append(_("Indiquez l'adresse d'envoi de l'exemplaire papier."))
    return problems


def transition_call(
    call: Call, action: str, *, by: User | None, note: str = "", updates=None, check=None
) -> Call:
    """Move ``call`` by ``action``; ``by`` is None when the platform acts by itself."""
    if by is not None and not rules.can_manage_call(by, call):
        raise PermissionDenied

    return call_workflow.apply(call, action, by=by, note=note, updates=updates, check=check)


def publish_call(call: Call, *, by: User, note: str = "") -> Call:
    def check(row):
        if problems := call_problems(row):
            raise CallNotReady(
                _("L'appel à projets ne peut pas encore être publié."), problems=problems
            )

    updates = {"published_at": call.published_at or timezone.now()}
    return transition_call(call, CallAction.PUBLISH, by=by, note=note, updates=updates, check=check)


def unpublish_call(call: Call, *, by: User, note: str) -> Call:
    def check(row):
        if not note.strip():
            raise DomainError(_("Indiquez pourquoi la publication est retirée."))
        if has_dossiers(row):
            raise DomainError(
                _("Des dossiers ont déjà été commencés : la publication ne peut plus être retirée.")
            )

    return transition_call(call, CallAction.UNPUBLISH, by=by, note=note, check=check)


def has_dossiers(call: Call) -> bool:
    """Whether candidates have started dossiers on ``call`` (once dossiers exist)."""
    related = getattr(call, "candidatures", None)
    return bool(related is not None and related.exists())


def close_refusal(call: Call, *, when=None) -> str:
    """Why the call's deposit may not be closed now, or "": not before its deadline."""
    if is_on_time(call.deadline, when or timezone.now()):
        return _("La date limite n'est pas encore passée : le dépôt ne peut pas être clos.")
    return ""


def close_call(call: Call, *, by: User | None, note: str = "") -> Call:
    def check(row):
        if refusal := close_refusal(row):
            raise DomainError(refusal)

    return transition_call(call, CallAction.CLOSE, by=by, note=note, check=check)


def close_calls_past_deadline(*, when=None) -> int:
    """Close every published call whose deadline has passed; return how many."""
    closed = 0
    for call in Call.objects.past_deadline(when):
        close_call(call, by=None, note=_("Clôture automatique à la date limite de réception."))
        closed += 1
    return closed


def reopen_call(call: Call, *, by: User, deadline, note: str) -> Call:
    """Open a closed call again until a new deadline (an extension announced to all)."""

    def check(row):
        if not note.strip():
            raise DomainError(_("Indiquez pourquoi le dépôt est rouvert."))
        if deadline is None or not is_on_time(deadline, timezone.now()):
            raise DomainError(_("La nouvelle date limite doit être dans le futur."))
        if deadline <= row.opens_at:
            raise DomainError(_("La nouvelle date limite doit suivre le lancement de l'appel."))

    with transaction.atomic():
        call = transition_call(
            call, CallAction.REOPEN, by=by, note=note, updates={"deadline": deadline}, check=check
        )
        # Equal treatment: every draft holder and submitter learns the new deadline.
        notices.notify_deadline_postponed(call)
    return call


def save_call(call: Call, *, by: User) -> Call:
    """Save the texts and calendar of ``call`` (the back-office form). When a published
    call's deadline moves later, everyone holding a dossier on it is told, once each."""
    if not rules.can_manage_call(by, call):
        raise PermissionDenied
    return store_call(call)


def store_call(call: Call) -> Call:
    """Save ``call`` and tell everyone concerned if its published deadline moved later:
    every path that edits a call (the back-office, the admin) goes through here."""
    with transaction.atomic():
        stored = None
        if call.pk is not None:
            stored = (
                Call.objects.select_for_update()
                .filter(pk=call.pk)
                .values("status", "deadline")
                .first()
            )
        call.save()
        if (
            stored is not None
            and stored["status"] != CallStatus.DRAFT
            and to_the_second(call.deadline) > to_the_second(stored["deadline"])
        ):
            notices.notify_deadline_postponed(call)
    return call


def start_review(call: Call, *, by: User, note: str = "") -> Call:
    return transition_call(call, CallAction.START_REVIEW, by=by, note=note)


def record_call_decided(call: Call, *, by: User, note: str = "") -> Call:
    return transition_call(call, CallAction.DECIDE, by=by, note=note)


def archive_call(call: Call, *, by: User, note: str = "") -> Call:
    return transition_call(call, CallAction.ARCHIVE, by=by, note=note)


# The service behind each action a user may pick on the back-office (REOPEN and ABANDON
# take extra arguments and have their own forms). DECIDE is not one: a call is decided by
# notifying its decisions (evaluation.letters.notify_decisions), never by a button, which
# would freeze decisions that no letter told anyone.
SIMPLE_ACTIONS = {
    CallAction.PUBLISH: publish_call,
    CallAction.UNPUBLISH: unpublish_call,
    CallAction.START_REVIEW: start_review,
    CallAction.ARCHIVE: archive_call,
    CallAction.CLOSE: close_call,
}
NOT_ON_THE_BACK_OFFICE = {CallAction.DECIDE}


def action_refusal(call: Call, action: str) -> str:
    """Why ``action``, allowed from the call's status, is not offered now, or ""."""
    if action == CallAction.CLOSE:
        return close_refusal(call)
    if action == CallAction.ABANDON:
        from aap.abandon import abandon_problems  # aap.abandon builds on this module

        return " ".join(abandon_problems(call))
    return ""


def available_actions(call: Call) -> list[str]:
    """The actions the back-office offers on ``call`` now (« Clore le dépôt » only once
    the deadline has passed)."""
    return [
        action
        for action in call_workflow.allowed_actions(call.status)
        if action not in NOT_ON_THE_BACK_OFFICE and not action_refusal(call, action)
    ]


# --- Questions and answers ------------------------------------------------------------------


def ask_question(call: Call, *, by: User, text: str) -> CallQuestion:
    if not rules.can_ask_question(by, call):
        raise DomainError(_("Les questions ne sont reçues que pendant la période de dépôt."))
    text = text.strip()
    if not text:
        raise DomainError(_("Écrivez votre question."))
    with transaction.atomic():
        question = CallQuestion.objects.create(call=call, asked_by=by, question=text)
        staff = User.objects.with_role(Role.INSTRUCTEUR)
        queue_email(
            to=[user.email for user in staff],
            template="question_asked",
            context={"call": call, "question": question},
            key=f"question-asked-{question.pk}",
        )
    return question


def answer_question(question: CallQuestion, *, by: User, public_question: str, answer: str):
    """Publish the answer for every candidate; tell the asker, and everyone holding a
    dossier on the call (equal treatment), once each."""
    if not rules.can_manage_call(by, question.call):
        raise PermissionDenied
    if not answer.strip() or not public_question.strip():
        raise DomainError(_("La question publiée et la réponse sont obligatoires."))
    with transaction.atomic():
        first_publication = question.published_at is None
        question.public_question = public_question.strip()
        question.answer = answer.strip()
        question.answered_by = by
        question.published_at = question.published_at or timezone.now()
        question.save(update_fields=["public_question", "answer", "answered_by", "published_at"])
        if first_publication and question.asked_by is not None:
            queue_email(
                to=[question.asked_by.email],
                template="question_answered",
                context={"call": question.call, "question": question},
                key=f"question-answered-{question.pk}",
                user=question.asked_by,
            )
        if first_publication:
            notices.notify_answer_published(question)
    return question
