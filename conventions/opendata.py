"""The essential data of signed subsidy agreements, in the SCDL « subventions » format
(schema 2.1.1 of schema.data.gouv.fr, committed in ``conventions/schemas/`` and checked
with frictionless by the tests), as required by the décret n° 2017-779.

``referenceDecision`` is the deliberation that granted the subsidy (``Decision.
deliberation``, entered with the decision), left empty while unknown, which the dashboard
says; ``rnaBeneficiaire`` is an association's RNA number from its organisation sheet."""

from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from stdnum.fr import siret

from aap.models import OrganisationKind
from conventions.articles import filled
from conventions.models import Convention
from conventions.states import BINDING_STATUSES
from core import spreadsheets
from evaluation.models import Decision

COLUMNS = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
]


def is_configured() -> bool:
    """Without the authority's SIRET (``AUTHORITY_SIRET``, 14 digits whose checksum holds:
    the schema's ``french-siret-value`` check) every row would fail: the file is not
    offered."""
    return siret.is_valid(settings.AUTHORITY_SIRET or "")


def published_conventions():
    deliberation = Decision.objects.filter(
        candidature=OuterRef("candidature"), lot=OuterRef("lot")
    ).values("deliberation")[:1]
    return (
        Convention.objects.filter(status__in=BINDING_STATUSES, signed_on__isnull=False)
        .annotate(deliberation=Subquery(deliberation))
        .select_related("call", "organisation")
        .prefetch_related("payments")
        .order_by("signed_on", "number")
    )


def without_deliberation():
    """The published agreements whose decision has no deliberation reference yet: their
    ``referenceDecision`` is empty (the schema allows it), and staff are told."""
    return (
        published_conventions()
        .filter(Q(deliberation="") | Q(deliberation__isnull=True))
        .order_by("number")
    )


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]


def row(convention: Convention) -> dict:
    payments = sorted(convention.payments.all(), key=lambda payment: payment.due_on)
    # AAAA-MM-JJ, or AAAA-MM-JJ/AAAA-MM-JJ for a period (ISO 8601 interval).
    if payments:
        first, last = payments[0].due_on, payments[-1].due_on
        period = first.isoformat() if first == last else f"{first.isoformat()}/{last.isoformat()}"
    else:
        period = f"{convention.period_start.isoformat()}/{convention.period_end.isoformat()}"
    organisation = convention.organisation
    return {
        "nomAttribuant": settings.AUTHORITY_NAME,
        "idAttribuant": settings.AUTHORITY_SIRET,
        "dateConvention": convention.signed_on.isoformat(),
        "referenceDecision": getattr(convention, "deliberation", None) or "",
        "nomBeneficiaire": convention.beneficiary_name,
        "idBeneficiaire": convention.beneficiary_siret,
        "rnaBeneficiaire": organisation.rna
        if organisation.kind == OrganisationKind.ASSOCIATION
        else "",
        "objet": _one_line(filled(convention, "object").partition("\n")[0]),
        "montant": Decimal(convention.amount).quantize(Decimal("0.01")),
        "nature": "aide en numéraire",
        "conditionsVersement": "Echelonné" if len(payments) > 1 else "Unique",
        "datesPeriodeVersement": period,
        "idRAE": "",
        "notificationUE": "non",
        "pourcentageSubvention": Decimal(convention.subsidy_share).normalize(),
        "dispositifAide": _one_line(
            f"Appel à projets {convention.call.reference} – {convention.call.title}"
        ),
    }


def to_csv() -> bytes:
    """Comma-separated UTF-8 as the schema wants, through the one cell writer: a
    beneficiary named ``=HYPERLINK(…)`` is published as text, never as a formula."""
    rows = ([values[column] for column in COLUMNS] for values in map(row, published_conventions()))
    return spreadsheets.csv_bytes(COLUMNS, rows, french=False)
