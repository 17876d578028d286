"""The bordereau d'élimination as the archives read it: a PDF (A4, the authority, the
service, the list, the legal basis, the visa block) and a CSV with every column."""

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.dates import format_datetime
from core.pdf import render_pdf
from core.spreadsheets import csv_bytes
from retention.models import Bordereau
from retention.states import LEGAL_BASIS, Category

PATRIMONY_CODE = (
    "Code du patrimoine, articles L. 212-2 et R. 212-14 : l'élimination d'archives publiques "
    "est soumise au visa du directeur des archives départementales."
)


def ordered_items(bordereau: Bordereau) -> list:
    """In the order of the categories, then by call and label."""
    order = list(Category)
    items = bordereau.items.select_related("call").order_by("call_id", "label", "pk")
    return sorted(items, key=lambda item: order.index(item.category))


def columns() -> list[str]:
    return [
        _("Appel à projets"),
        _("Dossier, structure ou élément"),
        _("Catégorie"),
        _("Début de la durée de conservation"),
        _("Fin de la durée de conservation"),
        _("Fichiers"),
        _("Volume (octets)"),
        _("Fondement"),
        _("Éliminé le"),
        _("Fichiers supprimés"),
        _("Octets supprimés"),
    ]


def rows(bordereau: Bordereau) -> list[list]:
    return [
        [
            item.call.reference if item.call else "",
            item.label,
            str(Category(item.category).label),
            item.started_on,
            item.due_on,
            item.file_count,
            item.volume,
            str(LEGAL_BASIS[Category(item.category)]),
            item.eliminated_at,
            item.files_deleted,
            item.bytes_deleted,
        ]
        for item in ordered_items(bordereau)
    ]


def filename(bordereau: Bordereau, extension: str) -> str:
    name = bordereau.number or f"brouillon-{bordereau.listed_on:%Y-%m-%d}"
    return f"Bordereau-elimination-{name}.{extension}"


def bordereau_csv(bordereau: Bordereau) -> bytes:
    return csv_bytes(columns(), rows(bordereau))


def human_size(size: int) -> str:
    for unit, scale in (("Go", 1024**3), ("Mo", 1024**2), ("ko", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".", ",")
    return f"{size} o"


def bordereau_pdf(bordereau: Bordereau) -> bytes:
    items = list(ordered_items(bordereau))
    totals = {"files": sum(i.file_count for i in items), "volume": sum(i.volume for i in items)}
    by_category = []
    for category in Category:
        listed = [item for item in items if item.category == category]
        if listed:
            by_category.append(
                {
                    "label": category.label,
                    "period": settings.RETENTION_DAYS[category.value],
                    "legal_basis": LEGAL_BASIS[category],
                    "count": len(listed),
                    "volume": human_size(sum(item.volume for item in listed)),
                }
            )
    return render_pdf(
        "retention/pdf/bordereau.html",
        {
            "bordereau": bordereau,
            "authority": settings.AUTHORITY_NAME,
            "service": settings.LEGAL_SERVICE,
            "items": [
                {
                    "item": item,
                    "category": Category(item.category).label,
                    "started_on": date_format(item.started_on, "DATE_FORMAT"),
                    "due_on": date_format(item.due_on, "DATE_FORMAT"),
                    "volume": human_size(item.volume),
                    "legal_basis": LEGAL_BASIS[Category(item.category)],
                }
                for item in items
            ],
            "by_category": by_category,
            "total_files": totals["files"],
            "total_volume": human_size(totals["volume"]),
            "listed_on": date_format(bordereau.listed_on, "DATE_FORMAT"),
            "sent_at": format_datetime(bordereau.sent_at) if bordereau.sent_at else "",
            "visa_date": date_format(bordereau.visa_date, "DATE_FORMAT")
            if bordereau.visa_date
            else "",
            "eliminated_at": format_datetime(bordereau.eliminated_at)
            if bordereau.eliminated_at
            else "",
            "patrimony_code": PATRIMONY_CODE,
        },
    )
