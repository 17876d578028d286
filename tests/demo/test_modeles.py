"""The template files generated for the demo call are real office files.

Plain functions: no database and no Django settings are needed.
"""

import io
import re
import shutil
import subprocess
import zipfile
from xml.etree import ElementTree

import magic
import openpyxl
import pytest

from demo.modeles import (
    EXPECTED_ACTIONS,
    attestation_docx,
    budget_xlsx,
    funding_request_docx,
    funding_request_odt,
    sample_pdf,
)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_MIME = "application/vnd.oasis.opendocument.text"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
ODF_MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"

NBSP = "\u00a0"

FUNDING_REQUEST_PHRASES = [
    "Dossier de demande de financement",
    "Appel à projets 2024 – Co-animation du réseau des facilitateurs clauses sociales",
    "Département de l'Isère, Direction des solidarités, Service Insertion Vers l'Emploi",
    "1. Identification du porteur",
    "Statut juridique (EPCI, GIP, association…)",
    "N° SIRET",
    "Représentant légal",
    "Personne chargée du dossier",
    "2. Lot(s) sollicité(s)",
    "☐ Lot Nord Isère – 0,5 ETP",
    "☐ Lot Sud Isère – 0,5 ETP",
    "3. Présentation du projet de co-animation",
    "4. Actions prévues au regard des attendus du Département",
    "5. Territoire couvert et EPCI concernés",
    "territoire du Vercors",
    "6. Expérience des clauses sociales dans la pratique de la commande publique",
    "7. Moyens humains dédiés et environnement de travail",
    "8. Partenariats (dont secteur du handicap)",
    "9. Budget",
    "Cofinancements",
    "10. Date de démarrage envisagée",
    "Fait à :",
    "Signature du représentant légal",
    *EXPECTED_ACTIONS,
]

ATTESTATION_PHRASES = [
    "Attestation d'engagement du représentant légal",
    "Je soussigné(e)",
    "agissant en qualité de",
    "de la structure",
    "certifie l'exactitude des informations fournies dans le dossier de candidature",
    f"l'appel à projets 2024 «{NBSP}Co-animation du réseau des facilitateurs clauses "
    f"sociales{NBSP}»",
    "m'engage à mettre en œuvre l'action décrite",
    "m'engage à fournir les bilans demandés",
    "Fait à :",
    "Le :",
    "Signature du représentant légal et cachet de la structure",
]


def mime_type(data: bytes) -> str:
    return magic.from_buffer(data, mime=True)


def open_zip(data: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every member's CRC is right
    return archive


def parse_xml_members(archive: zipfile.ZipFile) -> dict[str, ElementTree.Element]:
    """Parse every XML member of the archive (fails on any malformed one)."""
    return {
        name: ElementTree.fromstring(archive.read(name))
        for name in archive.namelist()
        if name.endswith((".xml", ".rels"))
    }


def docx_paragraphs(data: bytes) -> list[str]:
    with open_zip(data) as archive:
        document = parse_xml_members(archive)["word/document.xml"]
    return ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in document.iter(f"{W}p")]


def docx_paragraphs_with_style(data: bytes, style: str) -> list[str]:
    with open_zip(data) as archive:
        document = parse_xml_members(archive)["word/document.xml"]
    return [
        "".join(t.text or "" for t in p.iter(f"{W}t"))
        for p in document.iter(f"{W}p")
        if any(s.get(f"{W}val") == style for s in p.iter(f"{W}pStyle"))
    ]


def odt_paragraphs(data: bytes) -> list[str]:
    with open_zip(data) as archive:
        content = parse_xml_members(archive)["content.xml"]
    return [
        "".join(element.itertext())
        for element in content.iter()
        if element.tag in (f"{ODF_TEXT}p", f"{ODF_TEXT}h")
    ]


def assert_contains_phrases(paragraphs: list[str], phrases: list[str]) -> None:
    text = "\n".join(paragraphs)
    missing = [phrase for phrase in phrases if phrase not in text]
    assert not missing


# --- Dossier de demande de financement (DOCX) ------------------------------------------


def test_funding_request_docx_is_recognised_as_a_word_document():
    assert mime_type(funding_request_docx()) == DOCX_MIME


def test_funding_request_docx_package_layout():
    with open_zip(funding_request_docx()) as archive:
        names = archive.namelist()
        parts = parse_xml_members(archive)
    # libmagic reads the first member names: [Content_Types].xml first, then word/ early.
    assert names[:3] == ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
    assert {"word/styles.xml", "docProps/core.xml", "docProps/app.xml"} <= set(names)
    overrides = {
        element.get("PartName")
        for element in parts["[Content_Types].xml"]
        if element.tag.endswith("Override")
    }
    assert overrides == {
        "/word/document.xml",
        "/word/styles.xml",
        "/docProps/core.xml",
        "/docProps/app.xml",
    }
    style_ids = {style.get(f"{W}styleId") for style in parts["word/styles.xml"].iter(f"{W}style")}
    assert {"Normal", "Title", "Heading1", "Heading2"} <= style_ids


def test_funding_request_docx_content():
    data = funding_request_docx()
    assert_contains_phrases(docx_paragraphs(data), FUNDING_REQUEST_PHRASES)
    assert docx_paragraphs_with_style(data, "Title") == ["Dossier de demande de financement"]
    headings = docx_paragraphs_with_style(data, "Heading1")
    numbered = [heading for heading in headings if re.match(r"\d+\. ", heading)]
    assert [heading.split(".")[0] for heading in numbered] == [str(n) for n in range(1, 11)]
    actions = docx_paragraphs_with_style(data, "Heading2")
    assert [f"4.{n}. {action}" for n, action in enumerate(EXPECTED_ACTIONS, 1)] == actions[:8]


def test_funding_request_docx_has_answer_boxes():
    with open_zip(funding_request_docx()) as archive:
        document = parse_xml_members(archive)["word/document.xml"]
    tables = list(document.iter(f"{W}tbl"))
    # One box for the summary, one per expected action, and the later free-text sections.
    assert len(tables) >= 1 + len(EXPECTED_ACTIONS) + 5
    assert all(len(list(table.iter(f"{W}tc"))) == 1 for table in tables)


# --- Dossier de demande de financement (ODT) -------------------------------------------


def test_funding_request_odt_is_recognised_as_an_opendocument_text():
    assert mime_type(funding_request_odt()) == ODT_MIME


def test_funding_request_odt_package_layout():
    with open_zip(funding_request_odt()) as archive:
        first = archive.infolist()[0]
        mimetype = archive.read("mimetype")
        parts = parse_xml_members(archive)
    assert first.filename == "mimetype"
    assert first.compress_type == zipfile.ZIP_STORED
    assert mimetype == ODT_MIME.encode()
    assert {"content.xml", "styles.xml", "META-INF/manifest.xml"} <= set(parts)
    entries = {
        entry.get(f"{ODF_MANIFEST}full-path"): entry.get(f"{ODF_MANIFEST}media-type")
        for entry in parts["META-INF/manifest.xml"]
    }
    assert entries["/"] == ODT_MIME
    assert {"content.xml", "styles.xml"} <= set(entries)


def test_funding_request_odt_content_matches_the_docx():
    paragraphs = odt_paragraphs(funding_request_odt())
    assert_contains_phrases(paragraphs, FUNDING_REQUEST_PHRASES)

    def non_empty(texts):
        return [text.strip() for text in texts if text.strip()]

    assert non_empty(paragraphs) == non_empty(docx_paragraphs(funding_request_docx()))


def test_funding_request_odt_headings_have_outline_levels():
    with open_zip(funding_request_odt()) as archive:
        content = parse_xml_members(archive)["content.xml"]
    levels = [h.get(f"{ODF_TEXT}outline-level") for h in content.iter(f"{ODF_TEXT}h")]
    assert levels.count("2") >= len(EXPECTED_ACTIONS)
    assert levels.count("1") >= 10


# --- Attestation d'engagement (DOCX) ---------------------------------------------------


def test_attestation_docx_is_recognised_as_a_word_document():
    assert mime_type(attestation_docx()) == DOCX_MIME


def test_attestation_docx_content():
    data = attestation_docx()
    with open_zip(data) as archive:
        assert archive.namelist()[0] == "[Content_Types].xml"
        parse_xml_members(archive)
    assert_contains_phrases(docx_paragraphs(data), ATTESTATION_PHRASES)
    assert docx_paragraphs_with_style(data, "Title") == [
        "Attestation d'engagement du représentant légal"
    ]


# --- Budgets prévisionnels (XLSX) ------------------------------------------------------


def load_budget() -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(budget_xlsx()))


def row_of(ws, column: str, label: str) -> int:
    (row,) = [cell.row for cell in ws[column] if cell.value == label]
    return row


def evaluate(ws, ref: str) -> float:
    """Evaluate a cell holding a number, nothing, or a SUM of cells and ranges."""
    value = ws[ref].value
    if isinstance(value, str) and value.startswith("=SUM("):
        total = 0
        for argument in value.removeprefix("=SUM(").removesuffix(")").split(","):
            cells = [cell for row in ws[argument] for cell in row] if ":" in argument else []
            refs = [cell.coordinate for cell in cells] or [argument]
            total += sum(evaluate(ws, cell_ref) for cell_ref in refs)
        return total
    assert value is None or isinstance(value, int | float), (ref, value)
    return value or 0


def test_budget_xlsx_is_recognised_as_a_spreadsheet():
    assert mime_type(budget_xlsx()) == XLSX_MIME


def test_budget_xlsx_sheets_and_layout():
    workbook = load_budget()
    assert workbook.sheetnames == ["Budget de l'action", "Budget de la structure"]
    for ws in workbook:
        charges = [cell.value for cell in ws["A"] if cell.value]
        produits = [cell.value for cell in ws["C"] if cell.value]
        for code in ("60", "61", "62", "63", "64", "65", "68", "86"):
            assert any(label.startswith(f"{code} – ") for label in charges), code
        for code in ("70", "74", "75", "87"):
            assert any(label.startswith(f"{code} – ") for label in produits), code
        for line in (
            "État (DDETS)",
            "Département de l'Isère – appel à projets",
            "Région",
            "EPCI / communes",
        ):
            assert line in produits
        header = row_of(ws, "A", "Charges")
        assert [ws[f"{col}{header}"].value for col in "ABCD"] == [
            "Charges",
            "Montant (€)",
            "Produits",
            "Montant (€)",
        ]
        assert all(ws[f"{col}{header}"].font.b for col in "ABCD")
        assert ws.column_dimensions["A"].width >= 40
        assert ws.column_dimensions["B"].width >= 12


def test_budget_xlsx_totals_are_sum_formulas():
    for ws in load_budget():
        total = row_of(ws, "A", "Total des charges")
        assert total == row_of(ws, "C", "Total des produits")
        grand_totals = [cell.row for cell in ws["A"] if cell.value == "TOTAL"]
        assert len(grand_totals) == 1
        for row in (total, grand_totals[0]):
            for col in "BD":
                cell = ws[f"{col}{row}"]
                assert cell.value.startswith("=SUM("), cell.coordinate
                assert cell.font.b
                assert cell.number_format == '#,##0.00 "€"'
        # The total of charges adds up exactly the account headings 60 to 68.
        summed_rows = re.findall(r"B(\d+)", ws[f"B{total}"].value)
        codes = [ws[f"A{row}"].value[:2] for row in summed_rows]
        assert codes == ["60", "61", "62", "63", "64", "65", "68"]


def test_budget_xlsx_formulas_add_up_every_input_cell_once():
    for ws in load_budget():
        total = row_of(ws, "A", "Total des charges")
        grand_total = row_of(ws, "A", "TOTAL")
        header = row_of(ws, "A", "Charges")
        inputs = {"B": [], "D": []}
        for label_col, amount_col in (("A", "B"), ("C", "D")):
            for row in range(header + 1, grand_total):
                cell = ws[f"{amount_col}{row}"]
                if row != total and ws[f"{label_col}{row}"].value and cell.value is None:
                    assert cell.number_format == '#,##0.00 "€"'
                    cell.value = 1
                    inputs[amount_col].append(row)
        for col in "BD":
            before_total = [row for row in inputs[col] if row < total]
            assert evaluate(ws, f"{col}{total}") == len(before_total)
            assert evaluate(ws, f"{col}{grand_total}") == len(inputs[col])


def test_budget_xlsx_balanced_example():
    ws = load_budget()["Budget de l'action"]
    amounts = {
        ("A", "Rémunération des personnels"): 20_000,
        ("A", "Charges sociales"): 9_000,
        ("A", "Déplacements, missions"): 1_000,
        ("C", "État (DDETS)"): 5_000,
        ("C", "Département de l'Isère – appel à projets"): 25_000,
    }
    for (label_col, label), amount in amounts.items():
        amount_col = chr(ord(label_col) + 1)
        ws[f"{amount_col}{row_of(ws, label_col, label)}"] = amount
    total = row_of(ws, "A", "Total des charges")
    assert evaluate(ws, f"B{total}") == evaluate(ws, f"D{total}") == 30_000
    assert evaluate(ws, f"B{row_of(ws, 'A', '64 – Charges de personnel')}") == 29_000
    difference = row_of(ws, "A", "Écart (produits – charges) :")
    assert ws[f"B{difference}"].value == "=D{0}-B{0}".format(row_of(ws, "A", "TOTAL"))


# --- Sniffing from the head of the file ------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (funding_request_docx, DOCX_MIME),
        (funding_request_odt, ODT_MIME),
        (attestation_docx, DOCX_MIME),
        (budget_xlsx, XLSX_MIME),
    ],
)
def test_recognised_from_the_first_2048_bytes(build, expected):
    """Upload checks often sniff only the head of a file; the member order makes it enough."""
    assert mime_type(build()[:2048]) == expected


# --- Sample PDF ------------------------------------------------------------------------

CV_TITLE = "Élodie Martin – Curriculum vitae"
CV_LINES = [
    "Chargée de mission clauses sociales, Communauté de communes du Massif du Vercors",
    "",
    "Expérience : facilitatrice « clauses sociales » depuis 2016 (marchés publics, "
    "bailleurs sociaux, structures d'insertion par l'activité économique) ; animation du "
    "réseau départemental de l'Isère et coordination avec la DDETS.",
    "Compétences : commande publique, animation de réseau, partenariat avec le secteur du "
    "handicap – œuvre collective, 100 % terrain.",
]


def test_sample_pdf_is_recognised_as_a_pdf():
    data = sample_pdf(CV_TITLE, CV_LINES)
    assert data.startswith(b"%PDF-1.4\n")
    assert data.rstrip().endswith(b"%%EOF")
    assert mime_type(data) == "application/pdf"


def test_sample_pdf_cross_reference_offsets():
    data = sample_pdf(CV_TITLE, CV_LINES)
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", data).group(1))
    assert data[startxref:].startswith(b"xref\n0 8\n")
    entries = re.findall(rb"(\d{10}) 00000 n \n", data[startxref:])
    assert len(entries) == 7
    for number, offset in enumerate(entries, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj\n" % number)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_sample_pdf_text_is_extracted_with_its_accents(tmp_path):
    path = tmp_path / "cv.pdf"
    path.write_bytes(sample_pdf(CV_TITLE, CV_LINES))
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    text = result.stdout.decode("utf-8")
    words = " ".join(text.split())  # long lines are wrapped
    assert text.startswith(CV_TITLE)
    assert "Chargée de mission clauses sociales" in text
    assert "facilitatrice « clauses sociales » depuis 2016" in words
    assert "secteur du handicap – œuvre collective, 100 % terrain." in words
    assert "Élodie" in text and "réseau départemental de l'Isère" in words


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_sample_pdf_has_one_a4_page_and_a_title(tmp_path):
    path = tmp_path / "cv.pdf"
    path.write_bytes(sample_pdf(CV_TITLE, CV_LINES))
    info = subprocess.run(
        ["pdfinfo", "-enc", "UTF-8", str(path)], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert re.search(rf"^Title:\s+{CV_TITLE}$", info, re.MULTILINE)
    assert "595 x 842 pts (A4)" in info


def test_sample_pdf_refuses_text_longer_than_a_page():
    with pytest.raises(ValueError, match="one page"):
        sample_pdf(CV_TITLE, ["ligne"] * 200)


def test_the_committed_annexes_are_what_the_builder_makes():
    """The platform reads demo/annexes/; ``python -m demo.build_annexes`` makes them. Run
    it after changing their content: this test fails until the files are made again."""
    from demo.build_annexes import ANNEXES, build

    for name, built in build().items():
        committed = (ANNEXES / name).read_bytes()
        with (
            zipfile.ZipFile(io.BytesIO(built)) as fresh,
            zipfile.ZipFile(io.BytesIO(committed)) as stored,
        ):
            assert fresh.namelist() == stored.namelist(), name
            for member in fresh.namelist():
                if member == "docProps/core.xml" and name.endswith(".xlsx"):
                    continue  # openpyxl writes the instant of saving there
                assert fresh.read(member) == stored.read(member), f"{name}: {member}"


def test_a_call_s_copy_names_its_own_calendar_in_every_annex():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from demo.dates import CallDates

    dates = CallDates(dt.datetime(2027, 1, 6, 17, 0, tzinfo=ZoneInfo("Europe/Paris")))
    texts = {
        "docx": "\n".join(docx_paragraphs(funding_request_docx(dates))),
        "odt": "\n".join(odt_paragraphs(funding_request_odt(dates))),
        "attestation": "\n".join(docx_paragraphs(attestation_docx(dates))),
    }
    workbook = openpyxl.load_workbook(io.BytesIO(budget_xlsx(dates)))
    texts["xlsx"] = workbook["Budget de l'action"]["A2"].value
    for text in texts.values():
        assert "{" not in text and "}" not in text
        assert "2027" in text and "2024" not in text
    assert "au plus tard le 6 janvier 2027 à 17h00" in texts["docx"]
    assert "au plus tôt à l'hiver 2026-2027" in texts["odt"]
    assert mime_type(funding_request_odt(dates)) == ODT_MIME
    assert mime_type(budget_xlsx(dates)) == XLSX_MIME
