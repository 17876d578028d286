"""The one cell writer of every CSV and XLSX the platform produces.

Text that people typed (an organisation's name, an agreement's object) reaches staff's
spreadsheets; a value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would be read as a formula there (``=HYPERLINK(…)``, ``+cmd|…``). So:

- such text gets a leading apostrophe, the mark spreadsheets read as « text », in a CSV
  and in an XLSX alike (so that a copy, a paste or a conversion keeps it harmless);
- in an XLSX, every text is moreover a string cell, never a formula;
- true numbers (``int``, ``Decimal``, ``float``) are written as numbers, negative ones
  included: they are not text and execute nothing.

Sheet titles are made valid (no ``: / \\ ? * [ ]``, 31 characters at most, unique).
"""

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from core.kept import kept

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

NUMBERS = (int, float, Decimal)


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise(value):
    """Text that no spreadsheet reads as a formula: a leading apostrophe where needed."""
    return "'" + value if is_formula_like(value) else value


# --- CSV --------------------------------------------------------------------------------


def csv_value(value, *, decimal_comma: bool = True) -> str:
    """One CSV cell. Numbers stay numbers (with a decimal comma for French spreadsheets,
    a point for open data); dates are ISO 8601; text is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, NUMBERS):
        text = str(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def csv_chunks(
    columns: Sequence,
    rows: Iterable[Sequence],
    *,
    french: bool = True,
    rows_per_chunk: int = 200,
) -> Iterator[bytes]:
    """A CSV as it is written, a chunk of ``rows_per_chunk`` rows at a time, for a
    streamed response. ``french``: semicolons, decimal commas and a BOM, what French
    spreadsheets open; otherwise commas, points and plain UTF-8 (open data)."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=";" if french else ",", lineterminator="\r\n" if french else "\n"
    )
    if french:
        buffer.write("\ufeff")
    writer.writerow([csv_value(str(column)) for column in columns])
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_value(value, decimal_comma=french) for value in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(columns: Sequence, rows: Iterable[Sequence], *, french: bool = True) -> bytes:
    """A whole CSV (see ``csv_chunks``)."""
    return b"".join(csv_chunks(columns, rows, french=french))


# --- XLSX -------------------------------------------------------------------------------

_FORBIDDEN_IN_TITLES = re.compile(r"[:/\\?*\[\]]")
_TITLE_LENGTH = 31
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
MONEY_FORMAT = "#,##0.00"


def sheet_title(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique sheet title from any name: « Nord: Isère / [test]? » becomes
    « Nord Isère test »; a second one « Nord Isère test (2) ». ``taken`` holds the
    titles already used (compared without case, as spreadsheets do) and gets this one."""
    taken = taken if taken is not None else set()
    title = " ".join(_FORBIDDEN_IN_TITLES.sub(" ", str(name)).split()).strip("'")
    title = title[:_TITLE_LENGTH].strip() or _("Feuille")
    if title.lower() == "history":  # reserved by Excel
        title = _("Historique")
    candidate, number = title, 1
    while candidate.lower() in {t.lower() for t in taken}:
        number += 1
        suffix = f" ({number})"
        candidate = title[: _TITLE_LENGTH - len(suffix)].rstrip() + suffix
    taken.add(candidate)
    return candidate


def _text(value: str) -> str:
    """Control characters are not allowed in XLSX: one typed in a name would fail the
    whole export (openpyxl raises). They go; the rest of the text is kept, neutralised."""
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))


def _xlsx_cell(sheet, value, *, money: bool = False):
    """One XLSX cell: the bare value where openpyxl writes it as it is (a number, a text
    that cannot be read as a formula), else a cell with its type or format. A bare value
    costs a third of a cell: a ranking exports twenty thousand of them."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.make_naive(timezone.localtime(value))
    if isinstance(value, str):
        value = _text(value)
        if value not in ERROR_CODES:
            return value  # a string cell: it no longer starts with "="
        # openpyxl would otherwise store « #N/A » and the like as an error value.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if money and isinstance(value, NUMBERS) and not isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = MONEY_FORMAT
        return cell
    return value


@dataclass
class Sheet:
    """One sheet: its title (any name; made valid), its columns and its rows.

    ``money`` names the columns (by index) shown with two decimals and grouped thousands;
    ``freeze`` is the top-left cell that stays in view (« C2 »: two columns and the
    header); ``widths`` maps a column letter to its width."""

    title: str
    columns: Sequence
    rows: Iterable[Sequence]
    money: frozenset[int] = frozenset()
    freeze: str = "B2"
    widths: dict | None = None


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """A workbook written row by row (openpyxl's write-only mode: memory stays flat)."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for spec in sheets:
        sheet = workbook.create_sheet(sheet_title(spec.title, taken))
        sheet.freeze_panes = spec.freeze
        for letter, width in (spec.widths or {}).items():
            sheet.column_dimensions[letter].width = width
        header = []
        for column in spec.columns:
            cell = WriteOnlyCell(sheet, value=_text(str(column)))
            cell.data_type = "s"
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        sheet.append(header)
        for row in spec.rows:
            sheet.append(
                [
                    _xlsx_cell(sheet, value, money=index in spec.money)
                    for index, value in enumerate(row)
                ]
            )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# How long a workbook stays in the cache under the digest of its content.
XLSX_CACHE_SECONDS = 60 * 60


def xlsx_bytes_once(sheets: Sequence[Sheet]) -> bytes:
    """``xlsx_bytes``, written once per content: the workbook is kept in the cache under
    the SHA-256 of everything it is made of (titles, columns, every row's values, formats)
    and of the platform's release, as ``core.pdf.render_pdf_once`` keeps PDFs. A changed
    value makes another key: a kept workbook is never an old one. The rows must be lists
    (they are read twice). A cache that fails costs a writing, never an error.

    openpyxl writes a cell in about 5 µs: a ranking of a thousand dossiers, 22 columns,
    costs 100 ms to write, three times the page; hashing its values costs 3 ms."""
    from core.page_cache import release

    digest = hashlib.sha256(release().encode())
    for spec in sheets:
        digest.update(
            repr(
                (
                    spec.title,
                    [str(column) for column in spec.columns],
                    spec.rows,
                    sorted(spec.money),
                    spec.freeze,
                    spec.widths,
                )
            ).encode()
        )
    return kept(
        f"xlsx:{digest.hexdigest()}", lambda: xlsx_bytes(sheets), XLSX_CACHE_SECONDS, "workbook"
    )
