"""Following an agreement: progress reviews and the DDETS's remarks, the reports the
organisation sends and their review by an instructeur (accepted, or sent back with a
reason, each with its history row and an e-mail), indicator values."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from candidatures import rules as dossier_rules
from conventions import emails
from conventions.models import (
    Convention,
    Indicator,
    IndicatorValue,
    ProgressReview,
    Report,
    ReviewRemark,
)
from conventions.models.followup import MAX_QUARTERS
from conventions.services.common import REPORT_MAX_BYTES, can_manage, report_workflow
from conventions.states import ConventionStatus, ReportAction, ReportStatus
from core import rules as core_rules
from core.exceptions import DomainError
from core.models import User
from core.uploads import check_upload, clean_filename, sha256_of

REPORTING_STATUSES = (ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS)


def schedule_review(
    convention: Convention, *, by: User, scheduled_at, place: str, participants: str
) -> ProgressReview:
    if not can_manage(by):
        raise PermissionDenied
    return ProgressReview.objects.create(
        convention=convention,
        scheduled_at=scheduled_at,
        place=place.strip(),
        participants=participants.strip(),
        created_by=by,
    )


def record_review(
    review: ProgressReview, *, by: User, minutes: str, adjustments: str
) -> ProgressReview:
    if not can_manage(by):
        raise PermissionDenied
    if not minutes.strip():
        raise DomainError(_("Le compte rendu est vide."))
    review.minutes, review.adjustments, review.held = minutes.strip(), adjustments.strip(), True
    review.save(update_fields=["minutes", "adjustments", "held"])
    return review


def add_remark(review: ProgressReview, *, by: User, text: str) -> ReviewRemark:
    """The DDETS reads the reviews and adds remarks: nothing else."""
    if not (core_rules.is_ddets_reader(by) or can_manage(by)):
        raise PermissionDenied
    if not text.strip():
        raise DomainError(_("Écrivez votre remarque."))
    return ReviewRemark.objects.create(review=review, author=by, text=text.strip())


# --- Reports ------------------------------------------------------------------------------------


def submit_report(report: Report, *, by: User, uploaded) -> Report:
    """The organisation sends its report (PDF, DOCX or ODT): again after it was sent back,
    or to replace it before its review; never once it is accepted."""
    if not dossier_rules.is_member(by, report.convention.organisation):
        raise PermissionDenied
    if report.status == ReportStatus.ACCEPTED:
        raise DomainError(_("Ce bilan est déjà validé par le Département."))
    if report.convention.status not in REPORTING_STATUSES:
        raise DomainError(_("Les bilans se remettent pendant l'exécution de la convention."))
    try:
        check_upload(uploaded, allowed_formats=["pdf", "docx", "odt"], max_bytes=REPORT_MAX_BYTES)
    except ValidationError as error:
        raise DomainError(error.messages[0]) from None
    name = clean_filename(uploaded.name or "bilan.pdf")
    sha256 = getattr(uploaded, "sha256", None) or sha256_of(uploaded)
    old_storage, old_name = (report.file.storage, report.file.name) if report.file else (None, "")
    with transaction.atomic():
        report.file.save(name, uploaded, save=False)
        submitted = report_workflow.apply(
            report,
            ReportAction.SUBMIT,
            by=by,
            note=name,
            updates={
                "file": report.file.name,
                "file_name": name,
                "sha256": sha256,
                "submitted_at": timezone.now(),
                "submitted_by": by,
            },
        )
        if old_name:
            transaction.on_commit(lambda: old_storage.delete(old_name))
    return submitted


def _review(report: Report, action: str, *, by: User, note: str = "", updates=None) -> Report:
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        # The agreement's row, as payments take it: a balance requested at the same instant
        # sees the review, or waits for it.
        Convention.objects.select_for_update().filter(pk=report.convention_id).exists()
        return report_workflow.apply(report, action, by=by, note=note, updates=updates)


def accept_report(report: Report, *, by: User) -> Report:
    if not report.file:
        raise DomainError(_("Le bilan n'a pas encore été remis."))
    with transaction.atomic():
        accepted = _review(
            report, ReportAction.ACCEPT, by=by, updates={"accepted_at": timezone.now()}
        )
        emails.report_accepted(accepted)
    return accepted


def send_back_report(report: Report, *, by: User, reason: str) -> Report:
    """The instructeur returns the report to the organisation, saying why."""
    if not reason.strip():
        raise DomainError(_("Indiquez pourquoi le bilan est renvoyé à la structure."))
    if not report.file:
        raise DomainError(_("Le bilan n'a pas encore été remis."))
    with transaction.atomic():
        returned = _review(
            report,
            ReportAction.SEND_BACK,
            by=by,
            note=reason.strip(),
            updates={"sent_back_reason": reason.strip()},
        )
        change = returned.status_changes.order_by("-at", "-pk").first()
        emails.report_sent_back(returned, reason=reason.strip(), change_id=change.pk)
    return returned


# --- Indicators ---------------------------------------------------------------------------------


def report_indicator(
    convention: Convention,
    indicator: Indicator,
    *,
    by: User,
    period: int,
    value: Decimal,
    comment: str = "",
) -> IndicatorValue:
    """A value for one quarter of the agreement (the first begins on its first day)."""
    if not (dossier_rules.is_member(by, convention.organisation) or can_manage(by)):
        raise PermissionDenied
    if indicator.call_id != convention.call_id:
        raise PermissionDenied
    if convention.status not in REPORTING_STATUSES:
        raise DomainError(_("Les indicateurs se renseignent pendant l'exécution de la convention."))
    if not 1 <= period <= min(convention.quarters, MAX_QUARTERS):
        raise DomainError(_("Ce trimestre n'appartient pas à la période de la convention."))
    if value < 0:
        raise DomainError(_("Une valeur d'indicateur ne peut pas être négative."))
    entry, _created = IndicatorValue.objects.update_or_create(
        convention=convention,
        indicator=indicator,
        period=period,
        defaults={
            "value": value,
            "comment": comment.strip(),
            "entered_by": by,
            "entered_at": timezone.now(),
        },
    )
    return entry
