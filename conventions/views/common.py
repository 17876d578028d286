"""What the staff's and the members' screens of agreements share."""

from decimal import Decimal

from django.contrib import messages

from conventions import charts, queries
from conventions.pdf import convention_pdf, pdf_filename
from conventions.states import PaymentStatus
from core import downloads


def form_error_messages(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label} : {error}" if label else error)


def pdf_response(convention):
    return downloads.document(
        convention_pdf(convention), pdf_filename(convention), "application/pdf"
    )


def money_of(convention) -> dict:
    """Scheduled, paid and remaining of one agreement, from its prefetched payments."""
    payments = list(convention.payments.all())
    scheduled = sum((p.amount for p in payments), start=Decimal(0))
    paid = sum((p.amount for p in payments if p.status == PaymentStatus.PAID), start=Decimal(0))
    return {
        "scheduled": scheduled,
        "paid": paid,
        "remaining": convention.amount - paid,
        "unscheduled": convention.amount - scheduled,
    }


def indicator_charts(convention) -> list[dict]:
    return [charts.indicator(item) for item in queries.indicator_series(convention)]
