"""The committee record of a lot, and the letters that notify decisions and their
rectifications, as WeasyPrint PDFs.

A letter is drafted (its free paragraphs, previewed without writing anything), queued
when staff confirm, then rendered, stored with its SHA-256 and e-mailed through the
outbox by the Celery task ``evaluation.send_letter``, never in the request. Every letter
carries the « voies et délais de recours », set per authority (settings ``LETTER_*``) and
per call (``aap.Call`` fields ``letter_*`` and ``appeal_*``)."""

import functools
import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aap.models import Call, Lot
from aap.queries import table
from aap.services import record_call_decided
from aap.states import CallStatus
from candidatures.models import Candidature, Organisation
from candidatures.queries import member_emails
from core.exceptions import DomainError
from core.links import absolute_url
from core.mail import publishing_connection, queue_email
from core.models import User
from core.pdf import html_to_pdf, render_html
from evaluation import exports, rules
from evaluation.models import (
    AdmissibilityRectification,
    Decision,
    DecisionRectification,
    LetterFrozen,
    NotificationLetter,
    lock_scoring,
)
from evaluation.states import AdmissibilityOutcome, DecisionOutcome, LetterKind, LetterStatus

logger = logging.getLogger(__name__)

LETTER_TEMPLATE = "evaluation/pdf/letter.html"
TELERECOURS_URL = "https://citoyens.telerecours.fr"
# A letter confirmed this long ago and still queued missed its task: the sweep sends it.
QUEUED_GRACE = timedelta(seconds=60)


# --- What every letter says: place, signatory, voies et délais de recours -------------------

# (key in the letter's context, Call field, setting with the authority's default)
TERMS = [
    ("place", "letter_place", "LETTER_PLACE"),
    ("signatory_name", "letter_signatory_name", "LETTER_SIGNATORY_NAME"),
    ("signatory_title", "letter_signatory_title", "LETTER_SIGNATORY_TITLE"),
    ("signatory_delegation", "letter_signatory_delegation", "LETTER_SIGNATORY_DELEGATION"),
    ("appeal_authority", "appeal_authority", "LETTER_APPEAL_AUTHORITY"),
    ("appeal_authority_address", "appeal_authority_address", "LETTER_APPEAL_AUTHORITY_ADDRESS"),
    ("appeal_court", "appeal_court", "LETTER_APPEAL_COURT"),
    ("appeal_court_address", "appeal_court_address", "LETTER_APPEAL_COURT_ADDRESS"),
    ("appeal_wording", "appeal_wording", "LETTER_APPEAL_WORDING"),
]
TERM_FIELDS = [field for _key, field, _setting in TERMS]


def letter_terms(call: Call) -> dict:
    """The call's own value of each term, or the authority's default; ``appeal`` is the
    paragraph of voies et délais de recours the letters print."""
    terms = {
        key: (getattr(call, field) or "").strip() or getattr(settings, setting)
        for key, field, setting in TERMS
    }
    terms["appeal"] = terms["appeal_wording"] or appeal_paragraph(terms)
    return terms


def appeal_paragraph(terms: dict) -> str:
    """Recours gracieux and contentieux within two months of notification (code de justice
    administrative, R. 421-1 and R. 421-5), Télérecours citoyens."""
    return _(
        "La présente décision peut être contestée dans un délai de deux mois à compter de "
        "sa notification, par un recours gracieux adressé à %(authority)s (%(authority_address)s) "
        "et par un recours contentieux devant le %(court)s (%(court_address)s). Le recours "
        "gracieux interrompt le délai du recours contentieux, qui court à nouveau à compter de "
        "la réponse, ou du rejet implicite né du silence gardé pendant deux mois. Le tribunal "
        "peut aussi être saisi par l'application Télérecours citoyens, accessible sur le site "
        "%(telerecours)s."
    ) % {
        "authority": terms["appeal_authority"],
        "authority_address": terms["appeal_authority_address"],
        "court": terms["appeal_court"],
        "court_address": terms["appeal_court_address"],
        "telerecours": TELERECOURS_URL,
    }


def set_letter_terms(call: Call, *, by: User, **values: str) -> Call:
    """The call's own place, signatory and recours wording (empty: the authority's)."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    unknown = set(values) - set(TERM_FIELDS)
    if unknown:
        raise ValueError(f"Unknown letter terms: {sorted(unknown)}")
    with transaction.atomic():
        row = Call.objects.select_for_update().get(pk=call.pk)
        for name, value in values.items():
            setattr(row, name, (value or "").strip())
        row.save(update_fields=[*values, "updated_at"])
    for name in values:
        setattr(call, name, getattr(row, name))
    return call


# --- Paragraphs and context -------------------------------------------------------------------


def _day(when) -> str:
    return date_format(timezone.localtime(when), "DATE_FORMAT")


def decision_letter_of(candidature: Candidature) -> NotificationLetter | None:
    return candidature.notification_letters.filter(kind=LetterKind.DECISION).first()


def default_paragraphs(
    candidature: Candidature,
    rectification: DecisionRectification | None = None,
    admission: AdmissibilityRectification | None = None,
) -> dict:
    """The free paragraphs a letter has until staff write their own."""
    if admission is not None:
        notified = decision_letter_of(candidature)
        when = notified.sent_at or notified.queued_at if notified else admission.old_decided_at
        opening = _(
            "Après un nouvel examen de votre dossier, la décision d'irrecevabilité qui vous a "
            "été notifiée le %(date)s est rectifiée."
        ) % {"date": _day(when)}
    elif rectification is not None:
        notified = decision_letter_of(candidature)
        when = notified.sent_at or notified.queued_at if notified else rectification.at
        opening = _(
            "La décision relative à votre dossier sur le lot « %(lot)s », qui vous a été "
            "notifiée le %(date)s, est rectifiée comme suit."
        ) % {"lot": rectification.decision.lot.name, "date": _day(when)}
    elif _is_admissible(candidature):
        opening = _(
            "Votre dossier, déposé le %(date)s, a été examiné par le comité de sélection au "
            "regard des critères de l'appel à projets. Voici la décision pour chaque lot "
            "sollicité :"
        ) % {"date": _day(candidature.submitted_at)}
    else:
        opening = _(
            "Votre dossier, déposé le %(date)s, n'a pas été jugé recevable ; il n'a donc pas "
            "été évalué."
        ) % {"date": _day(candidature.submitted_at)}
    closing = _(
        "Le Service Insertion Vers l'Emploi reste à votre disposition pour toute précision, "
        "par la messagerie de votre dossier sur la plateforme."
    )
    return {"opening": opening, "closing": closing}


def _is_admissible(candidature: Candidature) -> bool:
    admissibility = getattr(candidature, "admissibility", None)
    return admissibility is not None and admissibility.outcome == AdmissibilityOutcome.ADMISSIBLE


def letter_context(letter: NotificationLetter, *, when=None) -> dict:
    """What the letter shows; ``when`` is its date (now: a preview, or its dispatch)."""
    candidature = letter.candidature
    admission = letter.admissibility_rectification
    defaults = default_paragraphs(candidature, letter.rectification, admission)
    admissible = admission is not None or _is_admissible(candidature)
    if admission is not None:  # what the act records, also before it is saved (preview)
        decisions = admission.decision_rows()
    else:
        decisions = list(candidature.decisions.select_related("lot").order_by("lot__position"))
    return {
        "letter": letter,
        "candidature": candidature,
        "organisation": candidature.organisation,
        "call": candidature.call,
        "authority_name": settings.AUTHORITY_NAME,
        "admissibility": getattr(candidature, "admissibility", None),
        "admissible": admissible,
        "decisions": decisions,
        "rectification": letter.rectification,
        "admission": admission,
        "results": exports.dossier_results(candidature)
        if admissible and letter.kind == LetterKind.DECISION
        else None,
        "opening": letter.opening.strip() or defaults["opening"],
        "closing": letter.closing.strip() or defaults["closing"],
        "terms": letter_terms(candidature.call),
        "date": _day(when or timezone.now()),
    }


def render_letter_html(letter: NotificationLetter, *, when=None) -> str:
    return render_html(LETTER_TEMPLATE, letter_context(letter, when=when))


# --- Drafts and previews -----------------------------------------------------------------------


def letter_draft_of(candidature: Candidature) -> NotificationLetter:
    """The dossier's decision letter as saved, or an unsaved draft with the default
    paragraphs: previewing or opening the form writes nothing (GET never writes)."""
    letter = decision_letter_of(candidature)
    if letter is None:
        letter = NotificationLetter(candidature=candidature, **default_paragraphs(candidature))
    return letter


def save_letter_draft(
    candidature: Candidature, *, by: User, opening: str, closing: str
) -> NotificationLetter:
    """The dossier's own free paragraphs, kept as a draft letter until staff confirm."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    if candidature.call.status != CallStatus.UNDER_REVIEW:
        raise DomainError(_("Les lettres se préparent quand l'appel à projets est en instruction."))
    with transaction.atomic():
        lock_scoring(candidature.call_id)  # the lock notifying takes
        letter = (
            NotificationLetter.objects.select_for_update()
            .filter(candidature=candidature, kind=LetterKind.DECISION)
            .first()
        )
        if letter is not None and letter.status != LetterStatus.DRAFT:
            raise LetterFrozen(_("La lettre de ce dossier est partie : elle ne change plus."))
        if letter is None:
            letter = NotificationLetter(candidature=candidature, created_by=by)
        letter.opening, letter.closing = opening.strip(), closing.strip()
        letter.save()
    return letter


def preview_pdf(letter: NotificationLetter) -> bytes:
    return html_to_pdf(render_letter_html(letter))


# --- Notifying the call's decisions -------------------------------------------------------------


def missing_decisions(call: Call) -> list[str]:
    """Submitted dossiers that cannot be notified yet, in French."""
    problems = []
    dossiers = (
        Candidature.objects.submitted()
        .filter(call=call)
        .select_related("organisation", "admissibility")
        .prefetch_related("lots", "decisions")
    )
    for dossier in dossiers:
        admissibility = getattr(dossier, "admissibility", None)
        if admissibility is None:
            problems.append(_("Recevabilité non décidée : %(org)s") % {"org": dossier.organisation})
            continue
        if admissibility.outcome == AdmissibilityOutcome.INADMISSIBLE:
            continue
        decided = {decision.lot_id for decision in dossier.decisions.all()}
        for lot in dossier.lots.all():
            if lot.pk not in decided:
                problems.append(
                    _("Décision manquante : %(org)s, lot %(lot)s")
                    % {"org": dossier.organisation, "lot": lot.name}
                )
    return problems


def missing_records(call: Call) -> list[str]:
    """Lots whose decisions no frozen committee record holds yet: the record is what the
    letters notify."""
    lots = (
        Lot.objects.filter(
            call=call,
            candidatures__admissibility__outcome=AdmissibilityOutcome.ADMISSIBLE,
        )
        .exclude(committee_records__isnull=False)
        .distinct()
        .order_by("position")
    )
    return [
        _("Procès-verbal du comité non figé : lot %(lot)s (figez-le depuis son classement)")
        % {"lot": lot.name}
        for lot in lots
    ]


def notification_problems(call: Call) -> list[str]:
    return missing_decisions(call) + missing_records(call)


def notify_decisions(call: Call, *, by: User) -> int:
    """Confirm the letters of every submitted dossier and mark the call decided; the
    letters are rendered and e-mailed by a task after commit. Refused while a dossier
    lacks a decision or a lot its frozen committee record. Returns how many are queued."""
    if not rules.can_run_evaluation(by):
        raise PermissionDenied
    with transaction.atomic():
        lock_scoring(call.pk)  # no score or decision changes while the letters are confirmed
        call.refresh_from_db(fields=["status"])
        if call.status != CallStatus.UNDER_REVIEW:
            raise DomainError(
                _("Les décisions se notifient quand l'appel à projets est en instruction.")
            )
        if problems := notification_problems(call):
            raise DomainError(
                _("Les décisions ne peuvent pas encore être notifiées."), problems=problems
            )
        now = timezone.now()
        queued = []
        dossiers = (
            Candidature.objects.submitted()
            .filter(call=call)
            .select_related("organisation", "call", "admissibility")
            .order_by("pk")
        )
        for dossier in dossiers:
            letter = decision_letter_of(dossier) or NotificationLetter(
                candidature=dossier, created_by=by
            )
            if letter.status != LetterStatus.DRAFT:
                continue
            defaults = default_paragraphs(dossier)
            letter.opening = letter.opening or defaults["opening"]
            letter.closing = letter.closing or defaults["closing"]
            letter.status, letter.queued_at, letter.sent_by = LetterStatus.QUEUED, now, by
            letter.save()
            queued.append(letter.pk)
        record_call_decided(call, by=by, note=_("Décisions notifiées aux candidats."))
        for letter_id in queued:
            transaction.on_commit(functools.partial(dispatch_letter, letter_id))
    return len(queued)


def rectification_letter(
    rectification: DecisionRectification, *, opening: str = "", closing: str = ""
) -> NotificationLetter:
    """The letter of ``rectification`` with staff's paragraphs (empty: the usual ones),
    unsaved: what the preview shows and what ``issue_rectification_letter`` stores."""
    candidature = rectification.decision.candidature
    defaults = default_paragraphs(candidature, rectification)
    return NotificationLetter(
        candidature=candidature,
        kind=LetterKind.RECTIFICATION,
        rectification=rectification,
        opening=opening.strip() or defaults["opening"],
        closing=closing.strip() or defaults["closing"],
    )


def admissibility_rectification_letter(
    admission: AdmissibilityRectification, *, opening: str = "", closing: str = ""
) -> NotificationLetter:
    """The letter of the rectification of an inadmissibility, unsaved: the preview's."""
    candidature = admission.candidature
    defaults = default_paragraphs(candidature, admission=admission)
    return NotificationLetter(
        candidature=candidature,
        kind=LetterKind.RECTIFICATION,
        admissibility_rectification=admission,
        opening=opening.strip() or defaults["opening"],
        closing=closing.strip() or defaults["closing"],
    )


def issue_admissibility_rectification_letter(
    admission: AdmissibilityRectification, *, by: User, opening: str = "", closing: str = ""
) -> NotificationLetter:
    """The one letter of the rectification of an inadmissibility, queued in the caller's
    transaction: the dossier admissible, the committee's decision on each lot."""
    letter = admissibility_rectification_letter(admission, opening=opening, closing=closing)
    letter.status, letter.created_by, letter.sent_by = LetterStatus.QUEUED, by, by
    letter.queued_at = admission.at
    letter.save()
    transaction.on_commit(functools.partial(dispatch_letter, letter.pk))
    return letter


def issue_rectification_letter(
    rectification: DecisionRectification, *, by: User, opening: str = "", closing: str = ""
) -> NotificationLetter:
    """The letter of a rectification, queued in the caller's transaction."""
    letter = rectification_letter(rectification, opening=opening, closing=closing)
    letter.status, letter.created_by, letter.sent_by = LetterStatus.QUEUED, by, by
    letter.queued_at = rectification.at
    letter.save()
    transaction.on_commit(functools.partial(dispatch_letter, letter.pk))
    return letter


# --- Sending (the task's service) ---------------------------------------------------------------


def dispatch_letter(letter_id: int) -> bool:
    """Hand the letter to Celery within ``EMAIL_PUBLISH_TIMEOUT``; on a broker failure it
    stays queued for the sweep (``requeue_queued_letters``)."""
    from evaluation.tasks import send_letter  # the task module imports this one

    try:
        with publishing_connection() as connection:
            send_letter.apply_async(
                kwargs={"letter_id": letter_id}, connection=connection, retry=False
            )
    except Exception:  # any broker error: the letter stays queued, nothing is lost
        logger.warning("Broker unavailable, letter %s left for the sweep", letter_id, exc_info=True)
        return False
    return True


def send_letter(letter_id: int) -> bool:
    """Render, store and e-mail one queued letter; return whether this call sent it.

    The row is locked while it is rendered: a duplicated task waits, then finds the
    letter sent and does nothing."""
    with transaction.atomic():
        letter = (
            NotificationLetter.objects.select_for_update(of=("self",))
            .select_related(
                "candidature__organisation",
                "candidature__call",
                "candidature__admissibility",
                "rectification__decision__lot",
                "admissibility_rectification",
            )
            .filter(pk=letter_id)
            .first()
        )
        if letter is None or letter.status != LetterStatus.QUEUED:
            return False
        now = timezone.now()
        content = html_to_pdf(render_letter_html(letter, when=now))
        letter.pdf.save(letter.filename, ContentFile(content), save=False)
        letter.sha256 = hashlib.sha256(content).hexdigest()
        letter.email = _send_email(letter)
        letter.status, letter.sent_at = LetterStatus.SENT, now
        letter.save(update_fields=["pdf", "sha256", "email", "status", "sent_at"])
    return True


def _send_email(letter: NotificationLetter):
    candidature = letter.candidature
    if letter.admissibility_rectification_id is not None:
        template = "admissibility_rectified"
    elif letter.kind == LetterKind.RECTIFICATION:
        template = "decision_rectified"
    else:
        template = "decision_notified"
    return queue_email(
        to=member_emails(candidature.organisation),
        template=template,
        context={
            "candidature": candidature,
            "rectification": letter.rectification,
            "admission": letter.admissibility_rectification,
            "url": absolute_url("candidatures:dossier", pk=candidature.pk),
        },
        key=f"letter-{letter.pk}",
        attachments=[
            {"name": letter.filename, "mimetype": "application/pdf", "path": letter.pdf.name}
        ],
    )


def requeue_queued_letters(*, now=None) -> int:
    """Letters confirmed a while ago and still queued (the broker was away, or a worker
    died while rendering): handed to Celery again. Beat runs this every minute."""
    now = now or timezone.now()
    waiting = list(
        NotificationLetter.objects.filter(
            status=LetterStatus.QUEUED, queued_at__lt=now - QUEUED_GRACE
        ).values_list("pk", flat=True)
    )
    return sum(dispatch_letter(letter_id) for letter_id in waiting)


def send_queued_letters(call: Call) -> int:
    """Send the call's queued letters now, in this process (the demo's data)."""
    waiting = NotificationLetter.objects.filter(
        candidature__call=call, status=LetterStatus.QUEUED
    ).values_list("pk", flat=True)
    return sum(send_letter(letter_id) for letter_id in list(waiting))


# --- Reads ---------------------------------------------------------------------------------------


def letters_of_call(call: Call):
    """Every letter of the call, for staff: its dossier, kind, dates and delivery status."""
    return (
        NotificationLetter.objects.filter(candidature__call=call)
        .select_related(
            "candidature__organisation",
            "email",
            "rectification__decision__lot",
            "admissibility_rectification",
        )
        .order_by("candidature__organisation__name", "created_at", "pk")
    )


def selected_organisations(call: Call):
    """Published on the call's page once every decision is notified."""
    if call.status not in (CallStatus.DECIDED, CallStatus.ARCHIVED):
        return Decision.objects.none()
    return (
        Decision.objects.filter(candidature__call=call, outcome="selected")
        .select_related("candidature__organisation", "lot")
        .order_by("lot__position", "candidature__organisation__name")
    )


def selected_page_rows() -> list[tuple]:
    """What ``selected_organisations`` and ``selected_list_updated_at`` read, for the
    version of the call's public page (``aap.queries.register_page_rows``): nothing
    before the call is decided."""
    shown = f"{{call}}.status IN ('{CallStatus.DECIDED}', '{CallStatus.ARCHIVED}')"
    dossiers = f"SELECT id FROM {table(Candidature)} WHERE call_id = {{call}}.id AND {shown}"
    decisions = f"SELECT id FROM {table(Decision)} WHERE candidature_id IN ({dossiers})"
    selected = (
        f"SELECT c.organisation_id FROM {table(Candidature)} c JOIN {table(Decision)} d "
        f"ON d.candidature_id = c.id WHERE c.call_id = {{call}}.id AND {shown} "
        f"AND d.outcome = '{DecisionOutcome.SELECTED}'"
    )
    return [
        (Decision, f"t.candidature_id IN ({dossiers})"),
        (DecisionRectification, f"t.decision_id IN ({decisions})"),
        (AdmissibilityRectification, f"t.candidature_id IN ({dossiers})"),
        (Organisation, f"t.id IN ({selected})"),
    ]


def selected_list_updated_at(call: Call):
    """When a rectification last changed the call's notified decisions (a decision's, or
    an inadmissibility's that selected the dossier on a lot), or None."""
    if call.status not in (CallStatus.DECIDED, CallStatus.ARCHIVED):
        return None
    dates = [
        DecisionRectification.objects.filter(decision__candidature__call=call).aggregate(
            at=Max("at")
        )["at"],
        *(
            admission.at
            for admission in AdmissibilityRectification.objects.filter(candidature__call=call)
            if any(row.outcome == DecisionOutcome.SELECTED for row in admission.decision_rows())
        ),
    ]
    return max((date for date in dates if date is not None), default=None)
