"""The e-mails the organisation receives about its agreement: one function per message,
each written in the transaction of the change it reports (the outbox sends it after
commit). Each has its ``templates/emails/<name>/`` (subject, text, HTML)."""

from django.utils.formats import date_format

from candidatures.queries import member_emails
from conventions.services.common import euros
from core.links import absolute_url
from core.mail import queue_email


def _send(convention, template: str, key: str, **context):
    return queue_email(
        to=member_emails(convention.organisation),
        template=template,
        context={
            "convention": convention,
            "number": convention.number,
            "url": absolute_url("conventions:my_convention", pk=convention.pk),
            **context,
        },
        key=f"{template}-{key}",
    )


def agreement_sent(convention):
    """The agreement is sent for signature: the PDF to sign is in the organisation's space."""
    return _send(
        convention,
        "convention_sent",
        f"{convention.pk}-{convention.sent_at:%Y%m%d%H%M%S}",
        sha256=convention.document_sha256,
    )


def agreement_signed(convention):
    return _send(
        convention,
        "convention_signed",
        str(convention.pk),
        signed_on=date_format(convention.signed_on, "DATE_FORMAT"),
    )


def amendment_sent(amendment):
    return _send(
        amendment.convention,
        "amendment_sent",
        f"{amendment.pk}-{amendment.sent_at:%Y%m%d%H%M%S}",
        amendment=amendment,
        title=amendment.title,
    )


def amendment_signed(amendment):
    return _send(
        amendment.convention,
        "amendment_signed",
        str(amendment.pk),
        amendment=amendment,
        title=amendment.title,
        signed_on=date_format(amendment.signed_on, "DATE_FORMAT"),
    )


def payment_ordered(payment):
    return _send(
        payment.convention,
        "payment_ordered",
        str(payment.pk),
        label=payment.label,
        amount=euros(payment.amount),
        reference=payment.accounting_reference,
        ordered_on=date_format(payment.ordered_on, "DATE_FORMAT"),
    )


def payment_paid(payment):
    return _send(
        payment.convention,
        "payment_paid",
        str(payment.pk),
        label=payment.label,
        amount=euros(payment.amount),
        paid_on=date_format(payment.paid_on, "DATE_FORMAT"),
    )


def report_accepted(report):
    return _send(
        report.convention,
        "report_accepted",
        str(report.pk),
        report=report.get_kind_display(),
    )


def report_sent_back(report, *, reason: str, change_id: int):
    """Each sending back is its own message (a report may be sent back twice)."""
    return _send(
        report.convention,
        "report_sent_back",
        f"{report.pk}-{change_id}",
        report=report.get_kind_display(),
        reason=reason,
        url=absolute_url("conventions:my_convention", pk=report.convention_id) + "#bilans",
    )
