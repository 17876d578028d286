"""The essential data of signed subsidy agreements, in the SCDL « subventions » format
(schema 2.1.1 of schema.data.gouv.fr), as required by the décret n° 2017-779."""

import re
from decimal import Decimal

from django.conf import settings

from conventions.articles import filled
from conventions.models import Convention
from conventions.states import BINDING_STATUSES
from core import spreadsheets

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


SIRET = re.compile(r"\d{14}")


def is_configured() -> bool:
    """Without the authority's SIRET (``AUTHORITY_SIRET``) every row would fail the
    schema: the file is not offered."""
    return SIRET.fullmatch(settings.AUTHORITY_SIRET or "") is not None


def published_conventions():
    return (
        Convention.objects.filter(status__in=BINDING_STATUSES, signed_on__isnull=False)
        .select_related("call")
        .prefetch_related("payments")
        .order_by("signed_on", "number")
    )


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]


def row(convention: Convention) -> dict:
    payments = sorted(convention.payments.all(), key=lambda payment: payment.due_on)
    if payments:
        first, last = payments[0].due_on, payments[-1].due_on
        period = first.isoformat() if first == last else f"{first.isoformat()}_{last.isoformat()}"
    else:
        period = f"{convention.period_start.isoformat()}_{convention.period_end.isoformat()}"
    return {
        "nomAttribuant": settings.AUTHORITY_NAME,
        "idAttribuant": settings.AUTHORITY_SIRET,
        "dateConvention": convention.signed_on.isoformat(),
        "referenceDecision": convention.number,
        "nomBeneficiaire": convention.beneficiary_name,
        "idBeneficiaire": convention.beneficiary_siret,
        "rnaBeneficiaire": "",
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
