"""PDFs read back as their reader would: the text pdftotext (poppler-utils) finds."""

import subprocess

ORDERS = {
    # Each line as laid out on the page (columns side by side).
    "layout": ["-layout"],
    # In the order the text is drawn: a table cell's lines stay together.
    "raw": ["-raw"],
    # pdftotext's own reading order.
    "reading": [],
}


def pdf_text(content: bytes, *, order: str = "layout") -> str:
    """The text of ``content``, whitespace collapsed (lines wrap where the PDF wraps)."""
    out = subprocess.run(
        ["pdftotext", *ORDERS[order], "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(out.stdout.decode().split())
