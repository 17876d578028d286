"""Avenants: after the signature, the amount, the end and the schedule of an agreement
change only through an avenant. It is prepared (its own number, what it changes, the new
schedule of the instalments not yet requested), sent for signature (its PDF rendered once
and stored with its SHA-256), then signed with its scan: only then does its schedule
replace the planned instalments. Each move writes a history row."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from conventions import emails, queries
from conventions.dates import add_months
from conventions.models import (
    Amendment,
    AmendmentInstalment,
    Convention,
    Payment,
    amendment_in_force,
)
from conventions.pdf import amendment_filename, amendment_pdf
from conventions.services.common import (
    SCAN_MAX_BYTES,
    amendment_workflow,
    can_manage,
    euros,
    store_frozen_pdf,
)
from conventions.services.payments import ceiling_problem
from conventions.states import (
    AMENDABLE_STATUSES,
    OPEN_AMENDMENT_STATUSES,
    AmendmentAction,
    AmendmentStatus,
    PaymentCondition,
    PaymentStatus,
    ReportKind,
    ReportStatus,
)
from core.exceptions import DomainError
from core.models import User
from core.uploads import check_upload, clean_filename


def _refuse_unless_amendable(convention: Convention) -> None:
    if convention.status not in AMENDABLE_STATUSES:
        raise DomainError(_("Un avenant modifie une convention signée, en cours d'exécution."))


def prepare_amendment(convention: Convention, *, by: User) -> Amendment:
    """A new avenant in preparation, numbered after the last one, starting from the
    agreement as it stands: its amount, its end and its instalments not yet requested."""
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        row = Convention.objects.select_for_update().get(pk=convention.pk)
        _refuse_unless_amendable(row)
        if row.amendments.filter(status__in=OPEN_AMENDMENT_STATUSES).exists():
            raise DomainError(_("Un avenant est déjà en préparation ou en attente de signature."))
        number = (row.amendments.aggregate(n=Max("number"))["n"] or 0) + 1
        amendment = Amendment.objects.create(
            convention=row,
            number=number,
            changes="",
            amount_before=row.amount,
            amount_after=row.amount,
            period_end_before=row.period_end,
            period_end_after=row.period_end,
            created_by=by,
        )
        AmendmentInstalment.objects.bulk_create(
            AmendmentInstalment(
                amendment=amendment,
                position=payment.position,
                label=payment.label,
                due_on=payment.due_on,
                amount=payment.amount,
                condition=payment.condition,
                condition_date=payment.condition_date,
            )
            for payment in row.payments.filter(status=PaymentStatus.PLANNED)
        )
    return amendment


def _draft(amendment: Amendment) -> Amendment:
    row = Amendment.objects.select_for_update().select_related("convention").get(pk=amendment.pk)
    if row.status != AmendmentStatus.DRAFT:
        raise DomainError(
            _(
                "L'avenant a été envoyé pour signature : il ne change plus. Revenez à sa "
                "préparation pour le corriger."
            )
        )
    return row


def update_amendment(
    amendment: Amendment,
    *,
    by: User,
    changes: str,
    amount_after: Decimal,
    period_end_after: dt.date,
) -> Amendment:
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        row = _draft(amendment)
        if period_end_after < row.convention.period_start:
            raise DomainError(_("La nouvelle fin précède le début de la convention."))
        if amount_after < 0:
            raise DomainError(_("Le montant ne peut pas être négatif."))
        row.changes, row.amount_after = changes.strip(), amount_after
        row.period_end_after = period_end_after
        row.save()
    return row


def save_amendment_instalment(
    amendment: Amendment,
    *,
    by: User,
    instalment: AmendmentInstalment | None = None,
    label: str,
    due_on: dt.date,
    amount: Decimal,
    condition: str = PaymentCondition.SIGNATURE,
    condition_date: dt.date | None = None,
) -> AmendmentInstalment:
    if not can_manage(by):
        raise PermissionDenied
    if instalment is not None and instalment.amendment_id != amendment.pk:
        raise PermissionDenied
    with transaction.atomic():
        row = _draft(amendment)
        if instalment is None:
            position = (row.instalments.aggregate(n=Max("position"))["n"] or 0) + 1
            instalment = AmendmentInstalment(amendment=row, position=position)
        instalment.label, instalment.due_on, instalment.amount = label.strip(), due_on, amount
        instalment.condition = condition
        instalment.condition_date = condition_date if condition == PaymentCondition.DATE else None
        instalment.save()
    return instalment


def delete_amendment_instalment(instalment: AmendmentInstalment, *, by: User) -> None:
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        _draft(instalment.amendment)
        instalment.delete()


def _kept_total(convention: Convention) -> Decimal:
    """What the avenant does not replace: the instalments already requested, ordered or
    paid."""
    return convention.payments.exclude(status=PaymentStatus.PLANNED).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal(0)


def _schedule_problem(amendment: Amendment, convention: Convention) -> str | None:
    kept = _kept_total(convention)
    new = amendment.instalments.aggregate(t=Sum("amount"))["t"] or Decimal(0)
    if problem := ceiling_problem(scheduled=kept + new, amount=amendment.amount_after):
        return problem
    if kept + new != amendment.amount_after:
        return _(
            "Avec les versements déjà engagés (%(kept)s), l'échéancier de l'avenant "
            "(%(new)s) doit couvrir exactement le nouveau montant (%(amount)s)."
        ) % {"kept": euros(kept), "new": euros(new), "amount": euros(amendment.amount_after)}
    return None


def _changes_something(amendment: Amendment, convention: Convention) -> bool:
    planned = [
        (p.label, p.due_on, p.amount, p.condition, p.condition_date)
        for p in convention.payments.filter(status=PaymentStatus.PLANNED).order_by("pk")
    ]
    proposed = [
        (i.label, i.due_on, i.amount, i.condition, i.condition_date)
        for i in amendment.instalments.order_by("pk")
    ]
    return (
        amendment.amount_after != convention.amount
        or amendment.period_end_after != convention.period_end
        or sorted(planned, key=str) != sorted(proposed, key=str)
    )


def send_amendment(amendment: Amendment, *, by: User, note: str = "") -> Amendment:
    """Freeze the avenant: its PDF rendered once, stored with its SHA-256."""
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        convention = Convention.objects.select_for_update().get(pk=amendment.convention_id)
        row = Amendment.objects.select_for_update().get(pk=amendment.pk)
        amendment_workflow.target(row.status, AmendmentAction.SEND)
        _refuse_unless_amendable(convention)
        if not row.changes.strip():
            raise DomainError(_("Décrivez ce que l'avenant modifie."))
        if not _changes_something(row, convention):
            raise DomainError(_("L'avenant ne change ni le montant, ni la fin, ni l'échéancier."))
        if problem := _schedule_problem(row, convention):
            raise DomainError(problem)
        now = timezone.now()
        page = queries.convention_page(Convention.objects.filter(pk=convention.pk)).get()
        row.convention = page
        content = amendment_pdf(row, sent_at=now)
        sha256 = store_frozen_pdf(row.document, amendment_filename(row), content)
        stored = row.document.name
        try:
            sent = amendment_workflow.apply(
                amendment,
                AmendmentAction.SEND,
                by=by,
                note=note,
                updates={"document": stored, "document_sha256": sha256, "sent_at": now},
            )
        except Exception:
            row.document.storage.delete(stored)
            raise
        sent.convention = convention
        emails.amendment_sent(sent)
    return sent


def amendment_back_to_draft(amendment: Amendment, *, by: User, note: str = "") -> Amendment:
    if not can_manage(by):
        raise PermissionDenied
    withdrawn = _("Version envoyée retirée (SHA-256 %(sha)s).") % {"sha": amendment.document_sha256}
    return amendment_workflow.apply(
        amendment,
        AmendmentAction.BACK_TO_DRAFT,
        by=by,
        note=" ".join(part for part in (note.strip(), withdrawn) if part),
        updates={"document": "", "document_sha256": "", "sent_at": None},
    )


def cancel_amendment(amendment: Amendment, *, by: User, reason: str) -> Amendment:
    if not can_manage(by):
        raise PermissionDenied
    if not reason.strip():
        raise DomainError(_("Indiquez pourquoi l'avenant est abandonné."))
    return amendment_workflow.apply(amendment, AmendmentAction.CANCEL, by=by, note=reason.strip())


def record_amendment_signature(
    amendment: Amendment, *, by: User, signed_on: dt.date, uploaded
) -> Amendment:
    """The signed avenant comes back as a PDF, checked like every upload; then, and only
    then, the agreement takes its amount, its end and its schedule."""
    if not can_manage(by):
        raise PermissionDenied
    if signed_on > timezone.localdate():
        raise DomainError(_("La date de signature ne peut pas être dans le futur."))
    if amendment.status != AmendmentStatus.SENT:
        raise DomainError(_("L'avenant doit d'abord être envoyé pour signature."))
    if amendment.sent_at and signed_on < timezone.localdate(amendment.sent_at):
        raise DomainError(_("La date de signature précède l'envoi de l'avenant."))
    try:
        check_upload(uploaded, allowed_formats=["pdf"], max_bytes=SCAN_MAX_BYTES)
    except ValidationError as error:
        raise DomainError(error.messages[0]) from None
    name = clean_filename(uploaded.name or "avenant.pdf")
    with transaction.atomic():
        convention = Convention.objects.select_for_update().get(pk=amendment.convention_id)

        def check(row):
            if row.status != AmendmentStatus.SENT:
                raise DomainError(_("L'avenant doit d'abord être envoyé pour signature."))
            _refuse_unless_amendable(convention)
            # An instalment requested since the avenant was sent would be counted twice.
            if problem := _schedule_problem(row, convention):
                raise DomainError(
                    _("Un versement a changé depuis l'envoi de l'avenant.") + " " + problem
                )

        amendment.signed_scan.save(name, uploaded, save=False)
        signed = amendment_workflow.apply(
            amendment,
            AmendmentAction.SIGN,
            by=by,
            updates={
                "signed_on": signed_on,
                "signed_scan": amendment.signed_scan.name,
                "signed_scan_name": name,
            },
            check=check,
        )
        _apply(signed, convention)
        signed.convention = convention
        emails.amendment_signed(signed)
    return signed


def _apply(amendment: Amendment, convention: Convention) -> None:
    with amendment_in_force():
        convention.amount = amendment.amount_after
        convention.period_end = amendment.period_end_after
        convention.save(update_fields=["amount", "period_end"])
        for payment in convention.payments.filter(status=PaymentStatus.PLANNED):
            payment.delete()
        for instalment in amendment.instalments.all():
            Payment.objects.create(
                convention=convention,
                position=instalment.position,
                label=instalment.label,
                due_on=instalment.due_on,
                amount=instalment.amount,
                condition=instalment.condition,
                condition_date=instalment.condition_date,
            )
        if amendment.period_end_after != amendment.period_end_before:
            # The closing reports follow the new end, unless already accepted.
            for report in convention.reports.filter(
                kind__in=[ReportKind.FINAL, ReportKind.FINANCIAL]
            ).exclude(status=ReportStatus.ACCEPTED):
                report.due_on = add_months(amendment.period_end_after, 1)
                report.save(update_fields=["due_on"])
