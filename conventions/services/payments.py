"""The payment schedule: set while the agreement is a draft (after the signature, only a
signed avenant changes it), never above the amount; each instalment's condition is
checked before it is requested, ordered or paid; the organisation hears when money is
ordered and paid."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from conventions import emails
from conventions.models import Convention, Payment
from conventions.services.common import can_manage, euros, payment_workflow
from conventions.states import (
    ConventionStatus,
    PaymentAction,
    PaymentCondition,
    PaymentStatus,
    ReportKind,
    ReportStatus,
)
from core.exceptions import DomainError
from core.models import User


def ceiling_problem(*, scheduled: Decimal, amount: Decimal) -> str | None:
    if scheduled > amount:
        return _(
            "Les versements (%(scheduled)s) dépasseraient le montant de la convention (%(amount)s)."
        ) % {"scheduled": euros(scheduled), "amount": euros(amount)}
    return None


def schedule_closed_message(convention) -> str:
    if convention.status in (ConventionStatus.SETTLED, ConventionStatus.TERMINATED):
        return _("L'échéancier d'une convention soldée ou résiliée ne change plus.")
    if convention.status == ConventionStatus.SENT:
        return _(
            "La convention est envoyée pour signature : son échéancier ne change plus. "
            "Revenez au brouillon pour le corriger."
        )
    return _("La convention est signée : son échéancier ne change que par un avenant signé.")


def _refuse_unless_draft(convention) -> None:
    if convention.status != ConventionStatus.DRAFT:
        raise DomainError(schedule_closed_message(convention))


def save_payment(
    convention: Convention,
    *,
    by: User,
    payment: Payment | None = None,
    label: str,
    due_on: dt.date,
    amount: Decimal,
    condition: str = PaymentCondition.SIGNATURE,
    condition_date: dt.date | None = None,
) -> Payment:
    """Add or change an instalment of a draft; the schedule never exceeds the amount."""
    if not can_manage(by):
        raise PermissionDenied
    if payment is not None and payment.convention_id != convention.pk:
        raise PermissionDenied
    with transaction.atomic():
        # The agreement's row is the lock: two instalments added at once are counted
        # together, and a sending at the same time waits or is seen.
        row = Convention.objects.select_for_update().get(pk=convention.pk)
        _refuse_unless_draft(row)
        others = row.payments.exclude(pk=payment.pk if payment else None).aggregate(
            t=Sum("amount")
        )["t"] or Decimal(0)
        if problem := ceiling_problem(scheduled=others + amount, amount=row.amount):
            raise DomainError(problem)
        if payment is None:
            position = (row.payments.aggregate(n=Max("position"))["n"] or 0) + 1
            payment = Payment(convention=row, position=position)
        payment.label, payment.due_on, payment.amount = label.strip(), due_on, amount
        payment.condition = condition
        payment.condition_date = condition_date if condition == PaymentCondition.DATE else None
        payment.save()
    return payment


def delete_payment(payment: Payment, *, by: User) -> None:
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        row = Convention.objects.select_for_update().get(pk=payment.convention_id)
        _refuse_unless_draft(row)
        payment.delete()


DATE_FIELD = {
    PaymentAction.REQUEST: "requested_on",
    PaymentAction.ORDER: "ordered_on",
    PaymentAction.PAY: "paid_on",
}


def _accepted(convention: Convention, kind: str) -> bool:
    reports = [r for r in convention.reports.all() if r.kind == kind]
    return bool(reports) and all(r.status == ReportStatus.ACCEPTED for r in reports)


def condition_problem(payment: Payment, convention: Convention, *, on: dt.date) -> str | None:
    """Why ``payment`` may not move yet, in French, or None when its condition is met."""
    label = payment.label
    if payment.condition == PaymentCondition.INTERMEDIATE_REPORT:
        if not _accepted(convention, ReportKind.INTERMEDIATE):
            return _(
                "« %(label)s » ne peut pas encore être demandé ni mandaté : il est versé après "
                "la validation du bilan intermédiaire, qui n'est pas encore validé."
            ) % {"label": label}
    elif payment.condition == PaymentCondition.FINAL_REPORTS:
        missing = [
            str(kind.label)
            for kind in (ReportKind.FINAL, ReportKind.FINANCIAL)
            if not _accepted(convention, kind)
        ]
        if missing:
            return _(
                "« %(label)s » ne peut pas encore être demandé ni mandaté : il est versé après "
                "la validation du bilan final et du compte rendu financier (CERFA n° 15059). "
                "Pas encore validé : %(missing)s."
            ) % {"label": label, "missing": ", ".join(m[:1].lower() + m[1:] for m in missing)}
    elif (
        payment.condition == PaymentCondition.DATE
        and payment.condition_date
        and on < payment.condition_date
    ):
        return _("« %(label)s » ne peut pas être demandé ni mandaté avant le %(date)s.") % {
            "label": label,
            "date": date_format(payment.condition_date, "DATE_FORMAT"),
        }
    return None


def move_payment(
    payment: Payment, action: str, *, by: User, on: dt.date, reference: str = ""
) -> Payment:
    """Planned → requested → ordered (mandaté, with its accounting reference) → paid,
    each only once the instalment's condition is met."""
    if not can_manage(by):
        raise PermissionDenied
    if on > timezone.localdate():
        raise DomainError(_("Cette date ne peut pas être dans le futur."))
    if action == PaymentAction.ORDER and not reference.strip():
        raise DomainError(_("Indiquez la référence comptable du mandat."))
    with transaction.atomic():
        # The agreement first, then the instalment (the order every write takes): a
        # report sent back at the same instant is seen, or waits.
        convention = (
            Convention.objects.select_for_update()
            .prefetch_related("reports")
            .get(pk=payment.convention_id)
        )

        def check(row):
            if convention.status not in (ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS):
                raise DomainError(_("Les versements suivent la signature de la convention."))
            if convention.signed_on and on < convention.signed_on:
                raise DomainError(_("Cette date précède la signature de la convention."))
            if problem := condition_problem(row, convention, on=on):
                raise DomainError(problem)

        updates = {DATE_FIELD[action]: on}
        if action == PaymentAction.ORDER:
            updates["accounting_reference"] = reference.strip()
        moved = payment_workflow.apply(payment, action, by=by, updates=updates, check=check)
        moved.convention = convention
        if action == PaymentAction.ORDER:
            emails.payment_ordered(moved)
        elif action == PaymentAction.PAY:
            emails.payment_paid(moved)
    return moved


def paid_total(convention) -> Decimal:
    return convention.payments.filter(status=PaymentStatus.PAID).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal(0)
