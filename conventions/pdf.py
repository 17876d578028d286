"""The agreement as a PDF, rendered by WeasyPrint from a template with every particular."""

from django.utils import timezone

from conventions.states import ConventionStatus
from core.pdf import render_pdf

# The Département's side of every agreement, as it signs.
AUTHORITY_PARTY = (
    "Département de l'Isère, Direction des solidarités, Service Insertion Vers l'Emploi, "
    "représenté par le Président du Département"
)


def convention_pdf(convention) -> bytes:
    """``convention`` comes from ``queries.convention_page`` (payments, reports and
    amendments prefetched)."""
    return render_pdf(
        "conventions/pdf/convention.html",
        {
            "convention": convention,
            "organisation": convention.organisation,
            "authority_party": AUTHORITY_PARTY,
            "payments": list(convention.payments.all()),
            "reports": list(convention.reports.all()),
            "amendments": list(convention.amendments.all()),
            "draft": convention.status == ConventionStatus.DRAFT,
            "printed_at": timezone.now(),
        },
    )


def pdf_filename(convention) -> str:
    return f"{convention.number}.pdf"
