"""File formats a call may accept for a required document.

Each format is recognised by its extension *and* by the MIME types libmagic reads
from the content; both must agree (used by the uploads of ``candidatures``).
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentFormat(models.TextChoices):
    PDF = "pdf", _("PDF")
    DOCX = "docx", _("Word (DOCX)")
    ODT = "odt", _("OpenDocument texte (ODT)")
    XLSX = "xlsx", _("Excel (XLSX)")
    ODS = "ods", _("OpenDocument tableur (ODS)")


@dataclass(frozen=True)
class FormatSpec:
    extensions: tuple[str, ...]
    mime_types: tuple[str, ...]


FORMAT_SPECS: dict[str, FormatSpec] = {
    DocumentFormat.PDF: FormatSpec((".pdf",), ("application/pdf",)),
    DocumentFormat.DOCX: FormatSpec(
        (".docx",),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    ),
    DocumentFormat.ODT: FormatSpec((".odt",), ("application/vnd.oasis.opendocument.text",)),
    DocumentFormat.XLSX: FormatSpec(
        (".xlsx",),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    ),
    DocumentFormat.ODS: FormatSpec((".ods",), ("application/vnd.oasis.opendocument.spreadsheet",)),
}


def format_for_extension(extension: str) -> str | None:
    extension = extension.lower()
    for code, spec in FORMAT_SPECS.items():
        if extension in spec.extensions:
            return code
    return None


def describe_formats(codes) -> str:
    """ "PDF, Word (DOCX)" for a list of format codes, in the catalogue's order."""
    return ", ".join(str(label) for code, label in DocumentFormat.choices if code in codes)
