"""Every write on organisations and dossiers that matters.

Services take keyword-only arguments, check their rule, and raise ``DomainError`` with a
French message; views turn it into a message for the user.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.deadlines import is_on_time
from aap.models import Call, QuestionKind, QuestionMeaning, RequiredDocument
from aap.states import CallStatus
from candidatures import rules
from candidatures.answers import answer_is_empty
from candidatures.models import (
    Answer,
    Candidature,
    CandidatureStatusChange,
    Document,
    Invitation,
    Membership,
    Organisation,
    Receipt,
)
from candidatures.states import CANDIDATURE_TRANSITIONS, CandidatureAction, CandidatureStatus
from core.addresses import normalise_email
from core.exceptions import DomainError
from core.links import absolute_url
from core.mail import queue_email
from core.models import User
from core.roles import Role
from core.uploads import check_upload, clean_filename, sha256_of
from core.workflow import Workflow

candidature_workflow = Workflow(
    transitions=CANDIDATURE_TRANSITIONS,
    statuses=CandidatureStatus,
    actions=CandidatureAction,
    history_model=CandidatureStatusChange,
    history_field="candidature",
)

INVITATION_DAYS = 14


class NotComplete(DomainError):
    """The dossier lacks answers or documents; ``problems`` lists them."""


class AlreadySubmitted(DomainError):
    def __init__(self, message, *, receipt=None):
        super().__init__(message)
        self.receipt = receipt


# --- Organisations ------------------------------------------------------------------------


def create_organisation(*, by: User, territories=(), **fields) -> Organisation:
    """A candidate creates their organisation and becomes its first member."""
    if not rules.can_apply(by):
        raise PermissionDenied
    with transaction.atomic():
        try:
            with transaction.atomic():
                organisation = Organisation.objects.create(created_by=by, **fields)
        except IntegrityError:
            raise DomainError(
                _(
                    "Une structure avec ce SIRET existe déjà sur la plateforme. Demandez à l'un "
                    "de ses membres de vous inviter."
                )
            ) from None
        organisation.territories.set(territories)
        Membership.objects.create(organisation=organisation, user=by)
    return organisation


def update_organisation(organisation: Organisation, *, by: User, territories=(), **fields):
    if not rules.is_member(by, organisation):
        raise PermissionDenied
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.save()
    organisation.territories.set(territories)
    return organisation


def invite_member(organisation: Organisation, *, by: User, email: str) -> Invitation:
    if not rules.is_member(by, organisation):
        raise PermissionDenied
    email = normalise_email(email)
    if organisation.memberships.filter(user__email__iexact=email).exists():
        raise DomainError(_("Cette personne est déjà membre de la structure."))
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            invited_by=by,
            expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
        )
        queue_email(
            to=email,
            template="organisation_invitation",
            context={
                "organisation": organisation,
                "invited_by": by,
                "url": absolute_url("candidatures:invitation", token=invitation.token),
                "days": INVITATION_DAYS,
            },
        )
    return invitation


def accept_invitation(invitation: Invitation, *, user: User) -> Membership:
    """Join the organisation: only with the invited address, once, before expiry."""
    if not invitation.is_valid():
        raise DomainError(_("Cette invitation a expiré ou a déjà servi. Demandez-en une nouvelle."))
    if normalise_email(user.email) != normalise_email(invitation.email):
        raise DomainError(
            _(
                "Cette invitation a été envoyée à une autre adresse électronique. Connectez-vous "
                "avec le compte de l'adresse invitée."
            )
        )
    with transaction.atomic():
        membership, _created = Membership.objects.get_or_create(
            organisation=invitation.organisation, user=user
        )
        if not user.has_role(Role.CANDIDAT):
            from django.contrib.auth.models import Group

            user.groups.add(Group.objects.get(name=Role.CANDIDAT))
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


# --- Dossiers -----------------------------------------------------------------------------


def start_candidature(call: Call, organisation: Organisation, *, by: User) -> Candidature:
    """The organisation's dossier for ``call``, created on first use (one per call)."""
    if not rules.is_member(by, organisation):
        raise PermissionDenied
    existing = Candidature.objects.filter(call=call, organisation=organisation).first()
    if existing is not None:
        return existing
    if not call.is_open():
        raise DomainError(_("Cet appel à projets ne reçoit pas de dossiers en ce moment."))
    try:
        with transaction.atomic():
            return Candidature.objects.create(call=call, organisation=organisation, created_by=by)
    except IntegrityError:
        # Two members started it at the same moment.
        return Candidature.objects.get(call=call, organisation=organisation)


def ensure_content_open(candidature: Candidature, required_document_id=None, *, by: User):
    if not rules.is_dossier_member(by, candidature):
        raise PermissionDenied
    if not rules.content_is_open(candidature, required_document_id):
        if candidature.status == CandidatureStatus.SUBMITTED:
            raise DomainError(
                _(
                    "Ce dossier est déposé : il ne peut plus être modifié. Pour le modifier avant "
                    "la date limite, retirez-le d'abord."
                )
            )
        raise DomainError(
            _(
                "La date limite de réception des dossiers est passée : le dossier ne peut plus être modifié."
            )
        )


def save_answers(candidature: Candidature, *, by: User, values: dict, lot_ids=None) -> None:
    """Store the answers of the form (``values`` maps a question's id to its value)."""
    ensure_content_open(candidature, by=by)
    questions = {question.pk: question for question in candidature.call.form_questions.all()}
    with transaction.atomic():
        # Locked and checked again: a submission may have happened meanwhile.
        candidature = _locked(candidature)
        ensure_content_open(candidature, by=by)
        existing = {answer.question_id: answer for answer in candidature.answers.all()}
        for question_id, value in values.items():
            question = questions[question_id]
            if question.kind == QuestionKind.LOTS:
                lot_ids = value or []
            answer = existing.get(question_id)
            if answer is None:
                Answer(candidature=candidature, question=question, value=value).save()
            elif answer.value != value:
                answer.value = value
                answer.save()
        if lot_ids is not None:
            candidature.lots.set(candidature.call.lots.filter(pk__in=lot_ids))
        for question_id, value in values.items():
            if questions[question_id].meaning == QuestionMeaning.REQUESTED_AMOUNT:
                candidature.requested_amount = Decimal(value) if value else None
        candidature.save(update_fields=["updated_at", "requested_amount"])


def dossier_size(candidature: Candidature) -> int:
    return candidature.documents.aggregate(total=Sum("size"))["total"] or 0


def add_document(
    candidature: Candidature, required_document: RequiredDocument, *, by: User, uploaded
) -> Document:
    """Check and store one uploaded file; a single-file piece is replaced.

    Refusals (format, content, size, antivirus) raise ``DomainError`` and store nothing.
    """
    if required_document.call_id != candidature.call_id:
        raise PermissionDenied
    ensure_content_open(candidature, required_document.pk, by=by)
    name = clean_filename(uploaded.name or "fichier")
    try:
        file_format = check_upload(
            uploaded,
            allowed_formats=required_document.allowed_formats,
            max_bytes=required_document.max_size_bytes,
        )
    except ValidationError as error:
        raise DomainError(error.messages[0]) from None
    sha256 = getattr(uploaded, "sha256", None) or sha256_of(uploaded)
    with transaction.atomic():
        # The file took its time to arrive: meanwhile the dossier may have been submitted
        # (its receipt would not list this file) or another file stored. Lock the row, as
        # submit_candidature does, and check again on it.
        candidature = _locked(candidature)
        ensure_content_open(candidature, required_document.pk, by=by)
        replaced = None
        if not required_document.multiple:
            replaced = candidature.documents.filter(required_document=required_document).first()
        current_total = dossier_size(candidature) - (replaced.size if replaced else 0)
        limit = candidature.call.max_dossier_size_bytes
        if current_total + uploaded.size > limit:
            raise DomainError(
                _(
                    "Le fichier « %(name)s » ferait dépasser la taille maximale du dossier "
                    "(%(limit)s Mo au total) : il n'a pas été enregistré."
                )
                % {"name": name, "limit": candidature.call.max_dossier_size_mb}
            )
        if replaced is not None:
            replaced.delete()
        document = Document(
            candidature=candidature,
            required_document=required_document,
            original_name=name,
            size=uploaded.size,
            sha256=sha256,
            file_format=file_format,
            uploaded_by=by,
        )
        uploaded.seek(0)
        document.file.save(name, uploaded, save=False)
        try:
            document.save()
        except Exception:
            document.file.delete(save=False)
            raise
        candidature.save(update_fields=["updated_at"])
    return document


def delete_document(document: Document, *, by: User) -> None:
    ensure_content_open(document.candidature, document.required_document_id, by=by)
    with transaction.atomic():
        candidature = _locked(document.candidature)
        ensure_content_open(candidature, document.required_document_id, by=by)
        document.candidature = candidature
        document.delete()


def _locked(candidature: Candidature, *related: str) -> Candidature:
    """The dossier's row, locked until the end of the transaction, read again.

    Every change of a dossier's content and its submission take this lock, so a file
    arriving while the dossier is submitted is refused instead of slipping in. ``of=self``:
    the join must not lock the call's row too, or every submission to a call would wait
    for the previous one (the call is locked briefly, only to number receipts).
    """
    return (
        Candidature.objects.select_for_update(of=("self",))
        .select_related("call", *related)
        .get(pk=candidature.pk)
    )


@dataclass(frozen=True)
class Missing:
    """Something the dossier lacks: ``anchor`` points to the place to fix it."""

    anchor: str
    message: str


def completeness(candidature: Candidature) -> list[Missing]:
    """Everything missing before the dossier can be submitted; empty when complete."""
    call = candidature.call
    missing = []
    answers = {answer.question_id: answer.value for answer in candidature.answers.all()}
    chose_lots = bool(candidature.lots.all())
    lots_anchor = "lots"
    for question in call.form_questions.all():
        if question.kind == QuestionKind.LOTS:
            lots_anchor = f"question-{question.pk}"
            continue
        if question.required and answer_is_empty(answers.get(question.pk)):
            missing.append(
                Missing(
                    f"question-{question.pk}",
                    _("Réponse manquante : %(q)s") % {"q": question.label},
                )
            )
    if call.lots.all() and not chose_lots:
        missing.insert(0, Missing(lots_anchor, _("Choisissez au moins un lot.")))
    present = {document.required_document_id for document in candidature.documents.all()}
    for required in call.required_documents.all():
        if required.mandatory and required.pk not in present:
            missing.append(
                Missing(
                    f"piece-{required.pk}", _("Pièce manquante : %(p)s") % {"p": required.label}
                )
            )
    return missing


# --- Submission ---------------------------------------------------------------------------


def submit_candidature(
    candidature: Candidature, *, by: User, received_at: dt.datetime, certified: bool
) -> Receipt:
    """Submit once, on time and complete; return the receipt.

    ``received_at`` is the instant the request reached the server: the deadline is
    checked against it. The dossier row is locked, so a double click submits once: the
    second request finds the dossier submitted and gets ``AlreadySubmitted``.
    """
    from candidatures import receipts

    if not rules.is_dossier_member(by, candidature):
        raise PermissionDenied
    if not certified:
        raise DomainError(_("Cochez la case de certification pour déposer le dossier."))
    with transaction.atomic():
        row = _locked(candidature, "organisation")
        if row.status == CandidatureStatus.SUBMITTED:
            raise AlreadySubmitted(
                _("Ce dossier est déjà déposé."),
                receipt=row.receipts.filter(superseded_at=None).first(),
            )
        call = row.call
        # A request received in time is accepted even if the automatic closing ran while
        # it was being processed: the instant of reception decides.
        if not is_on_time(call.deadline, received_at) or call.status not in (
            CallStatus.PUBLISHED,
            CallStatus.CLOSED,
        ):
            raise DomainError(
                _(
                    "La date limite de réception des dossiers (%(deadline)s) est passée : le "
                    "dossier n'a pas été déposé."
                )
                % {"deadline": receipts.format_datetime(call.deadline)}
            )
        if missing := completeness(row):
            raise NotComplete(
                _("Le dossier est incomplet : il n'a pas été déposé."),
                problems=[item.message for item in missing],
            )

        candidature_workflow.apply(
            row, CandidatureAction.SUBMIT, by=by, updates={"submitted_at": received_at}
        )
        # What the receipt proves is read before the call's lock (the dossier's own lock
        # already holds it still): every other deposit to the call waits on that lock.
        manifest = receipts.build_manifest(row, submitted_at=received_at)
        # The call row is the lock that numbers receipts one after the other.
        Call.objects.select_for_update().only("pk").get(pk=call.pk)
        sequence = (Receipt.objects.filter(call=call).aggregate(n=Max("sequence"))["n"] or 0) + 1
        receipt = Receipt.objects.create(
            candidature=row,
            call=call,
            sequence=sequence,
            number=f"{call.reference}-{sequence:04d}",
            submitted_at=received_at,
            submitted_by=by,
            manifest=manifest,
        )
        receipts.send_receipt(receipt)
    candidature.status, candidature.submitted_at = row.status, row.submitted_at
    return receipt


def withdraw_candidature(
    candidature: Candidature, *, by: User, received_at: dt.datetime, note: str = ""
) -> Candidature:
    """Back to draft before the deadline; the current receipt is marked superseded."""
    if not rules.is_dossier_member(by, candidature):
        raise PermissionDenied

    def check(row):
        if not is_on_time(row.call.deadline, received_at):
            raise DomainError(
                _("La date limite est passée : le dossier déposé ne peut plus être retiré.")
            )

    with transaction.atomic():
        row = candidature_workflow.apply(
            candidature,
            CandidatureAction.WITHDRAW,
            by=by,
            note=note,
            updates={"submitted_at": None},
            check=check,
        )
        row.receipts.filter(superseded_at=None).update(superseded_at=timezone.now())
    return row
