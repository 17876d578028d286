"""The staff's follow-up of submitted dossiers: paper copies, messages, missing pieces."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.deadlines import paper_copy_on_time
from candidatures import rules
from candidatures.models import (
    Candidature,
    Message,
    PaperCopy,
    PaperCopyRevision,
    PieceRequest,
    PieceRequestRevision,
    Reading,
)
from candidatures.queries import member_emails
from candidatures.states import CandidatureStatus
from core.dates import format_datetime
from core.documents import DocumentFormat
from core.exceptions import DomainError
from core.links import absolute_url
from core.mail import queue_email
from core.models import User
from core.models.history import snapshot
from core.roles import Role
from core.uploads import check_upload, clean_filename, sha256_of


def is_paper_copy_on_time(paper_copy: PaperCopy) -> bool | None:
    call = paper_copy.candidature.call
    return paper_copy_on_time(
        call.deadline,
        rule=call.paper_copy_rule,
        method=paper_copy.method,
        postmarked_on=paper_copy.postmarked_on,
        received_on=paper_copy.received_on,
        received_at=paper_copy.received_at,
    )


PAPER_COPY_FIELDS = [
    "method",
    "postmarked_on",
    "received_on",
    "received_at",
    "hand_receipt_number",
    "identical",
    "note",
]
PIECE_REQUEST_FIELDS = ["required_documents", "message", "due_at", "closed_at"]


def record_paper_copy(
    candidature: Candidature, *, by: User, reason: str = "", **fields
) -> PaperCopy:
    """Record how the paper copy came, or correct it with a reason: each version is kept
    (``PaperCopyRevision``), since the postmark can decide whether a dossier was on time."""
    if not rules.can_manage_dossiers(by, candidature):
        raise PermissionDenied
    if candidature.status != CandidatureStatus.SUBMITTED:
        raise DomainError(_("L'exemplaire papier s'enregistre pour un dossier déposé."))
    if fields.get("method") != "hand":
        fields["received_at"] = None
        fields["hand_receipt_number"] = ""
    else:
        fields["postmarked_on"] = None
    with transaction.atomic():
        paper_copy = PaperCopy.objects.select_for_update().filter(candidature=candidature).first()
        if paper_copy is not None and not reason.strip():
            raise DomainError(
                _(
                    "Indiquez le motif de la correction : la réception déjà enregistrée est gardée dans l'historique."
                )
            )
        before = snapshot(paper_copy, PAPER_COPY_FIELDS) if paper_copy else None
        if paper_copy is None:
            paper_copy = PaperCopy(candidature=candidature)
        for name, value in fields.items():
            setattr(paper_copy, name, value)
        paper_copy.recorded_by, paper_copy.recorded_at = by, timezone.now()
        paper_copy.save()
        after = snapshot(paper_copy, PAPER_COPY_FIELDS)
        if before != after:
            PaperCopyRevision.objects.create(
                paper_copy=paper_copy,
                action="recorded" if before is None else "corrected",
                by=by,
                before=before,
                after=after,
                note=reason.strip(),
            )
    return paper_copy


def _instructeurs_emails() -> list[str]:
    return list(User.objects.with_role(Role.INSTRUCTEUR).values_list("email", flat=True))


# The same text from the same person on the same dossier within this delay is a repeat.
DUPLICATE_WINDOW = dt.timedelta(minutes=10)


class DuplicateMessage(DomainError):
    """The same message was just posted on this dossier."""


# A file joined to a message: any format a dossier's piece may have, up to this size.
MESSAGE_ATTACHMENT_FORMATS = list(DocumentFormat.values)
MESSAGE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def post_message(candidature: Candidature, *, by: User, body: str, attachment=None) -> Message:
    """A message on the dossier, with at most one file; the other side is told by e-mail.

    The file is checked like every upload (format and content, what it carries, the
    antivirus): a refusal raises ``DomainError`` in French and stores nothing."""
    from_staff = rules.can_manage_dossiers(by, candidature)
    if not from_staff and not rules.is_dossier_member(by, candidature):
        raise PermissionDenied
    body = body.strip()
    if not body:
        raise DomainError(_("Écrivez votre message."))
    name = sha256 = ""
    if attachment is not None:
        name = clean_filename(attachment.name or "fichier")
        try:
            check_upload(
                attachment,
                allowed_formats=MESSAGE_ATTACHMENT_FORMATS,
                max_bytes=MESSAGE_ATTACHMENT_MAX_BYTES,
            )
        except ValidationError as error:
            raise DomainError(
                _("La pièce jointe est refusée, le message n'est pas envoyé : %(reason)s")
                % {"reason": error.messages[0]}
            ) from None
        sha256 = getattr(attachment, "sha256", None) or sha256_of(attachment)
    with transaction.atomic():
        # Under the dossier's lock: a double click, or a bulk action sent twice, posts once.
        Candidature.objects.select_for_update().filter(pk=candidature.pk).first()
        if Message.objects.filter(
            candidature=candidature,
            author=by,
            body=body,
            created_at__gte=timezone.now() - DUPLICATE_WINDOW,
        ).exists():
            raise DuplicateMessage(_("Ce message vient d'être envoyé sur ce dossier."))
        message = Message(candidature=candidature, author=by, from_staff=from_staff, body=body)
        if attachment is not None:
            message.attachment_name, message.attachment_sha256 = name, sha256
            message.attachment_size = attachment.size
            attachment.seek(0)
            message.attachment.save(name, attachment, save=False)
        try:
            message.save()
        except Exception:
            if message.attachment:
                message.attachment.delete(save=False)
            raise
        if from_staff:
            to, url = (
                member_emails(candidature.organisation),
                absolute_url("candidatures:dossier", pk=candidature.pk),
            )
        else:
            to, url = (
                _instructeurs_emails(),
                absolute_url("candidatures:staff_dossier", pk=candidature.pk),
            )
        queue_email(
            to=to,
            template="dossier_message",
            context={"candidature": candidature, "message": message, "url": url},
        )
    return message


def post_messages(dossiers, *, by: User, body: str) -> int:
    """The same message on each dossier (a bulk action); returns how many were posted,
    those where it was just posted being skipped. Refused when it was just posted on all
    of them (a double click)."""
    posted = 0
    for candidature in dossiers:
        try:
            post_message(candidature, by=by, body=body)
        except DuplicateMessage:
            continue
        posted += 1
    if dossiers and not posted:
        raise DuplicateMessage(_("Ce message vient déjà d'être envoyé sur ces dossiers."))
    return posted


def request_pieces(
    candidature: Candidature, *, by: User, required_documents, message: str, due_at
) -> PieceRequest:
    """Reopen only the named pieces of a submitted dossier, until ``due_at``."""
    if not rules.can_manage_dossiers(by, candidature):
        raise PermissionDenied
    if candidature.status != CandidatureStatus.SUBMITTED:
        raise DomainError(_("Les pièces manquantes se demandent sur un dossier déposé."))
    if due_at <= timezone.now():
        raise DomainError(_("La date limite de la demande doit être dans le futur."))
    documents = list(required_documents)
    if not documents or any(doc.call_id != candidature.call_id for doc in documents):
        raise DomainError(_("Choisissez au moins une pièce de cet appel à projets."))
    with transaction.atomic():
        piece_request = PieceRequest.objects.create(
            candidature=candidature, message=message.strip(), due_at=due_at, created_by=by
        )
        piece_request.required_documents.set(documents)
        PieceRequestRevision.objects.create(
            piece_request=piece_request,
            action="requested",
            by=by,
            after=snapshot(piece_request, PIECE_REQUEST_FIELDS),
        )
        queue_email(
            to=member_emails(candidature.organisation),
            template="pieces_requested",
            context={
                "candidature": candidature,
                "piece_request": piece_request,
                "documents": documents,
                "due": format_datetime(due_at),
                "url": absolute_url("candidatures:documents", pk=candidature.pk),
            },
        )
    return piece_request


def close_piece_request(piece_request: PieceRequest, *, by: User) -> PieceRequest:
    if not rules.can_manage_dossiers(by, piece_request.candidature):
        raise PermissionDenied
    with transaction.atomic():
        piece_request = PieceRequest.objects.select_for_update().get(pk=piece_request.pk)
        if piece_request.closed_at is None:
            before = snapshot(piece_request, PIECE_REQUEST_FIELDS)
            piece_request.closed_at = timezone.now()
            piece_request.save(update_fields=["closed_at"])
            PieceRequestRevision.objects.create(
                piece_request=piece_request,
                action="closed",
                by=by,
                before=before,
                after=snapshot(piece_request, PIECE_REQUEST_FIELDS),
            )
    return piece_request


def log_reading(candidature: Candidature, reader: User, what: str) -> Reading:
    """Keep a trace of each view of a dossier by the DDETS (the State's co-pilot)."""
    return Reading.objects.create(candidature=candidature, reader=reader, what=str(what)[:200])
