"""The annexes of a call ("modèles en annexe") and sample PDFs for the demo and the tests.

The annexes are committed files (``demo/annexes/``, made by ``python -m demo.build_annexes``)
whose texts carry the placeholders ``{year}``, ``{deadline}`` and ``{start}``: each call's
copy names its own calendar (``demo.dates``); the 2024 call gets its published dates.
"""

import io
import textwrap
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from demo.build_annexes.content import EXPECTED_ACTIONS
from demo.dates import SEED_DATES, CallDates

ANNEXES = Path(__file__).resolve().parent / "annexes"
__all__ = [
    "EXPECTED_ACTIONS",  # what the funding-request form lists, read by its tests
    "attestation_docx",
    "budget_xlsx",
    "funding_request_docx",
    "funding_request_odt",
    "sample_pdf",
]


def filled(name: str, dates: CallDates) -> bytes:
    """The annex ``name`` with the dates of ``dates`` in its texts. Every member keeps its
    place, date and compression: libmagic reads the first ones, ODF wants ``mimetype``
    first and stored."""
    values = {
        "{year}": str(dates.year),
        "{deadline}": escape(dates.deadline_text),
        "{start}": escape(dates.start_text),
    }
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO((ANNEXES / name).read_bytes())) as source,
        zipfile.ZipFile(output, "w") as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith(".xml"):
                text = content.decode("utf-8")
                for placeholder, value in values.items():
                    text = text.replace(placeholder, value)
                content = text.encode("utf-8")
            target.writestr(info, content)
    return output.getvalue()


def funding_request_docx(dates: CallDates = SEED_DATES) -> bytes:
    """The funding-request form ("dossier de demande de financement") as a Word file."""
    return filled("dossier-de-demande-de-financement.docx", dates)


def funding_request_odt(dates: CallDates = SEED_DATES) -> bytes:
    """The funding-request form as an OpenDocument text file (same content as the DOCX)."""
    return filled("dossier-de-demande-de-financement.odt", dates)


def attestation_docx(dates: CallDates = SEED_DATES) -> bytes:
    """The undertaking to be signed by the candidate's legal representative, as a Word file."""
    return filled("attestation-d-engagement.docx", dates)


def budget_xlsx(dates: CallDates = SEED_DATES) -> bytes:
    """The provisional budgets of the action and of the structure, as an Excel workbook."""
    return filled("budgets-previsionnels.xlsx", dates)


_PDF_PAGE_WIDTH, _PDF_PAGE_HEIGHT, _PDF_MARGIN = 595, 842, 56  # A4 in points
_PDF_FONT_SIZE, _PDF_LEADING, _PDF_TITLE_SIZE = 11, 15, 16
_PDF_WRAP = 88  # characters of 11 pt Helvetica that fit in the text width
_PDF_MAX_LINES = (_PDF_PAGE_HEIGHT - 2 * _PDF_MARGIN - 2 * _PDF_TITLE_SIZE) // _PDF_LEADING


def _pdf_string(text: str) -> str:
    """A PDF literal string in WinAnsiEncoding, kept ASCII with octal escapes."""
    out = []
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"\\()":
            out.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


def sample_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with a bold title and lines of text (Helvetica, WinAnsi encoding).

    Long lines are wrapped; a ``ValueError`` is raised if the text does not fit on the page.
    Meant for demo and test uploads (e.g. a candidate's CV), not for real documents.
    """
    wrapped = [part for line in lines for part in (textwrap.wrap(line, _PDF_WRAP) or [""])]
    if len(wrapped) > _PDF_MAX_LINES:
        raise ValueError(f"{len(wrapped)} lines do not fit on one page (max {_PDF_MAX_LINES}).")
    top = _PDF_PAGE_HEIGHT - _PDF_MARGIN - _PDF_TITLE_SIZE
    commands = [
        "BT",
        f"/F2 {_PDF_TITLE_SIZE} Tf",
        f"{_PDF_MARGIN} {top} Td",
        f"{_pdf_string(title)} Tj",
        f"/F1 {_PDF_FONT_SIZE} Tf",
        f"{_PDF_LEADING} TL",
        "T*",  # a blank line under the title
        *(f"{_pdf_string(line)} '" for line in wrapped),  # ' = next line, then show
        "ET",
    ]
    stream = "\n".join(commands).encode("ascii")
    title_utf16 = (b"\xfe\xff" + title.encode("utf-16-be")).hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PDF_PAGE_WIDTH} {_PDF_PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        ).encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        f"<< /Title <{title_utf16}> /Producer (aap-isere) >>".encode("ascii"),
    ]
    # The binary comment on line 2 tells transfer tools the file is not plain text.
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(pdf)
    pdf += b"xref\n0 %d\n" % (len(objects) + 1)
    pdf += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_offset,
    )
    return bytes(pdf)
