"""The agreement and its avenants as PDFs, rendered by WeasyPrint from templates. A draft
is rendered at each download and marked as such; from « sent for signature » on, the PDF
is rendered once and stored with its SHA-256 (``services``), and that file is what
everyone downloads."""

from django.utils import timezone

from conventions.states import ConventionStatus, PaymentCondition, ReportKind
from core.pdf import render_pdf

# The Département's side of every agreement, as it signs.
AUTHORITY_PARTY = (
    "Département de l'Isère, Direction des solidarités, Service Insertion Vers l'Emploi, "
    "représenté par le Président du Département"
)


def convention_pdf(convention, *, sent_at=None) -> bytes:
    """``convention`` comes from ``queries.convention_page`` (payments, reports and
    amendments prefetched); ``sent_at`` is the instant it is sent, for the frozen file."""
    return render_pdf(
        "conventions/pdf/convention.html",
        {
            "convention": convention,
            "organisation": convention.organisation,
            "authority_party": AUTHORITY_PARTY,
            "payments": list(convention.payments.all()),
            "reports": list(convention.reports.all()),
            "financial_report": ReportKind.FINANCIAL,
            "draft": convention.status == ConventionStatus.DRAFT and sent_at is None,
            "sent_at": sent_at,
            "printed_at": timezone.now(),
        },
    )


def amendment_pdf(amendment, *, sent_at=None) -> bytes:
    convention = amendment.convention
    kept = [p for p in convention.payments.all() if p.status != "planned"]
    return render_pdf(
        "conventions/pdf/amendment.html",
        {
            "amendment": amendment,
            "convention": convention,
            "organisation": convention.organisation,
            "authority_party": AUTHORITY_PARTY,
            "kept": kept,
            "instalments": list(amendment.instalments.all()),
            "conditions": PaymentCondition,
            "draft": sent_at is None,
            "sent_at": sent_at,
            "printed_at": timezone.now(),
        },
    )


def pdf_filename(convention) -> str:
    return f"{convention.number}.pdf"


def amendment_filename(amendment) -> str:
    return f"{amendment.convention.number}-avenant-{amendment.number}.pdf"
