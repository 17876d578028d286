"""The provisional budgets annex (XLSX), written with openpyxl."""

import io
import zipfile

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from demo.build_annexes.content import (
    _CREATED,
    CALL_TITLE,
    PLACEHOLDERS,
    Placeholders,
    _zip,
)

# --------------------------------------------------------------------------------------
# Provisional budgets (.xlsx)
# --------------------------------------------------------------------------------------

# (account heading, detail lines); an account without detail lines is filled in directly.
_Account = tuple[str, tuple[str, ...]]

_CHARGES: tuple[_Account, ...] = (
    (
        "60 – Achats",
        ("Prestations de services", "Achats de matières et fournitures", "Autres fournitures"),
    ),
    (
        "61 – Services extérieurs",
        ("Locations", "Entretien et réparation", "Assurances", "Documentation"),
    ),
    (
        "62 – Autres services extérieurs",
        (
            "Rémunérations intermédiaires et honoraires",
            "Publicité, publications",
            "Déplacements, missions",
            "Services bancaires, autres",
        ),
    ),
    ("63 – Impôts et taxes", ("Impôts et taxes sur rémunérations", "Autres impôts et taxes")),
    (
        "64 – Charges de personnel",
        ("Rémunération des personnels", "Charges sociales", "Autres charges de personnel"),
    ),
    ("65 – Autres charges de gestion courante", ()),
    ("68 – Dotations aux amortissements", ()),
)

_PRODUITS: tuple[_Account, ...] = (
    ("70 – Ventes de produits finis, de marchandises, prestations de services", ()),
    (
        "74 – Subventions d'exploitation",
        (
            "État (DDETS)",
            "Département de l'Isère – appel à projets",
            "Région",
            "EPCI / communes",
            "Autres (préciser)",
        ),
    ),
    ("75 – Autres produits de gestion courante", ()),
)

_CHARGES_IN_KIND: _Account = (
    "86 – Emplois des contributions volontaires en nature",
    (
        "Secours en nature",
        "Mise à disposition gratuite de biens et services",
        "Personnel bénévole",
    ),
)

_PRODUITS_IN_KIND: _Account = (
    "87 – Contributions volontaires en nature",
    ("Bénévolat", "Prestations en nature", "Dons en nature"),
)

_EURO_FORMAT = '#,##0.00 "€"'
_HEADER_FILL = PatternFill("solid", start_color="1F3864")
_ACCOUNT_FILL = PatternFill("solid", start_color="D9E1F2")
_TOTAL_FILL = PatternFill("solid", start_color="BDD7EE")
_INPUT_FILL = PatternFill("solid", start_color="FFF9E5")
_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _budget_cell(ws: Worksheet, ref: str, value=None, *, fill=None, bold=False, indent=0):
    cell = ws[ref]
    cell.value = value
    cell.border = _GRID
    cell.font = Font(bold=bold)
    if fill is not None:
        cell.fill = fill
    cell.alignment = Alignment(indent=indent, wrap_text=True, vertical="center")
    return cell


def _write_accounts(ws: Worksheet, label_col: str, amount_col: str, row: int, accounts):
    """Write accounts from ``row`` downwards; return the rows of the account headings.

    An account heading with detail lines gets a SUM of them; otherwise it is an input cell.
    """
    heading_rows = []
    for heading, details in accounts:
        heading_rows.append(row)
        _budget_cell(ws, f"{label_col}{row}", heading, fill=_ACCOUNT_FILL, bold=True)
        amount = (
            f"=SUM({amount_col}{row + 1}:{amount_col}{row + len(details)})" if details else None
        )
        _budget_cell(
            ws,
            f"{amount_col}{row}",
            amount,
            fill=_ACCOUNT_FILL if details else _INPUT_FILL,
            bold=True,
        ).number_format = _EURO_FORMAT
        for offset, detail in enumerate(details, start=1):
            _budget_cell(ws, f"{label_col}{row + offset}", detail, indent=2)
            _budget_cell(
                ws, f"{amount_col}{row + offset}", fill=_INPUT_FILL
            ).number_format = _EURO_FORMAT
        row += 1 + len(details)
    return heading_rows


def _write_total(ws: Worksheet, label_col: str, amount_col: str, row: int, label: str, rows):
    _budget_cell(ws, f"{label_col}{row}", label, fill=_TOTAL_FILL, bold=True)
    formula = "=SUM({})".format(",".join(f"{amount_col}{r}" for r in rows))
    _budget_cell(
        ws, f"{amount_col}{row}", formula, fill=_TOTAL_FILL, bold=True
    ).number_format = _EURO_FORMAT


def _write_budget_sheet(ws: Worksheet, title: str, period_label: str, dates: Placeholders) -> None:
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14, color="1F3864")
    ws["A2"] = f"{dates.fill(CALL_TITLE)} – Département de l'Isère"
    ws["A2"].font = Font(italic=True)
    ws["A3"] = "Structure :"
    ws["C3"] = period_label
    for ref in ("A3", "C3"):
        ws[ref].font = Font(bold=True)

    header_row = 5
    for col, text in zip(
        "ABCD", ("Charges", "Montant (€)", "Produits", "Montant (€)"), strict=True
    ):
        cell = _budget_cell(ws, f"{col}{header_row}", text, fill=_HEADER_FILL)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.alignment = Alignment(horizontal="center", vertical="center")

    first = header_row + 1
    charge_rows = _write_accounts(ws, "A", "B", first, _CHARGES)
    produit_rows = _write_accounts(ws, "C", "D", first, _PRODUITS)
    last_charges = first + sum(1 + len(details) for _, details in _CHARGES) - 1
    last_produits = first + sum(1 + len(details) for _, details in _PRODUITS) - 1
    total_row = max(last_charges, last_produits) + 1
    # The shorter side is padded with empty framed cells so that the totals line up.
    shorter_side = "CD" if last_produits < last_charges else "AB"
    for row in range(min(last_charges, last_produits) + 1, total_row):
        for col in shorter_side:
            _budget_cell(ws, f"{col}{row}")
    _write_total(ws, "A", "B", total_row, "Total des charges", charge_rows)
    _write_total(ws, "C", "D", total_row, "Total des produits", produit_rows)

    in_kind_row = total_row + 1
    (charges_in_kind,) = _write_accounts(ws, "A", "B", in_kind_row, [_CHARGES_IN_KIND])
    (produits_in_kind,) = _write_accounts(ws, "C", "D", in_kind_row, [_PRODUITS_IN_KIND])

    grand_total_row = in_kind_row + 1 + max(len(_CHARGES_IN_KIND[1]), len(_PRODUITS_IN_KIND[1]))
    _write_total(ws, "A", "B", grand_total_row, "TOTAL", [total_row, charges_in_kind])
    _write_total(ws, "C", "D", grand_total_row, "TOTAL", [total_row, produits_in_kind])

    note_row = grand_total_row + 2
    ws[f"A{note_row}"] = (
        "Le budget doit être présenté à l'équilibre : le total des charges est égal au total "
        "des produits. Les cellules sur fond jaune sont à compléter."
    )
    ws[f"A{note_row}"].font = Font(italic=True, color="595959")
    ws[f"A{note_row + 1}"] = "Écart (produits – charges) :"
    ws[f"B{note_row + 1}"] = f"=D{grand_total_row}-B{grand_total_row}"
    ws[f"B{note_row + 1}"].number_format = _EURO_FORMAT

    for col, width in zip("ABCD", (52, 16, 52, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{first}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"


def budget_xlsx(dates: Placeholders = PLACEHOLDERS) -> bytes:
    """The provisional budgets of the action and of the structure, as an Excel workbook."""
    workbook = Workbook()
    action = workbook.active
    action.title = "Budget de l'action"
    _write_budget_sheet(
        action,
        "Budget prévisionnel de l'action",
        "Lot : ☐ Nord Isère  ☐ Sud Isère – Période : du …… au ……",
        dates,
    )
    structure = workbook.create_sheet("Budget de la structure")
    _write_budget_sheet(structure, "Budget prévisionnel de la structure", "Exercice : ……", dates)
    workbook.properties.title = "Budgets prévisionnels de l'action et de la structure"
    workbook.properties.creator = "Département de l'Isère"
    workbook.properties.language = "fr-FR"
    workbook.properties.created = _CREATED
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _ooxml_reordered(buffer.getvalue())


def _ooxml_reordered(data: bytes) -> bytes:
    """Repack an OOXML file with ``[Content_Types].xml``, the relationships and the main
    ``xl/`` parts first, as Office writes them.

    openpyxl writes ``[Content_Types].xml`` last, after ``docProps/`` and a large theme part.
    libmagic still recognises the whole file, but not its first 2048 bytes (the usual sniffing
    buffer), where it only sees a zip archive.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [(name, archive.read(name)) for name in archive.namelist()]
    leading = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")

    def rank(name: str) -> tuple[int, int]:
        if name in leading:
            return 0, leading.index(name)
        return (1, 0) if name.startswith("xl/") else (2, 0)

    return _zip(sorted(parts, key=lambda part: rank(part[0])))
