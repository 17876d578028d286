"""PDFs read back as their reader would: the text pdftotext (poppler-utils) finds."""

import io
import re
import subprocess
import tempfile

import pikepdf

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


def pdf_info(content: bytes) -> dict[str, str]:
    """What ``pdfinfo`` reports: ``{"Tagged": "yes", "Title": …, "Pages": "4", …}``."""
    out = subprocess.run(["pdfinfo", "-"], input=content, capture_output=True, check=True)
    lines = out.stdout.decode().splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


def page_texts(content: bytes, *, order: str = "raw") -> list[str]:
    """The text of each page, read page by page (``pdftotext -f N -l N``), empty pages kept,
    whitespace collapsed; in drawing order by default, a table cell's lines together."""
    pages = int(pdf_info(content)["Pages"])
    texts = []
    for number in range(1, pages + 1):
        out = subprocess.run(
            ["pdftotext", *ORDERS[order], "-f", str(number), "-l", str(number), "-", "-"],
            input=content,
            capture_output=True,
            check=True,
        )
        texts.append(" ".join(out.stdout.decode().split()))
    return texts


def pdf_fonts(content: bytes) -> list[dict[str, str]]:
    """Each font ``pdffonts`` lists, as ``{"name": "ABCDEF+DejaVu-Sans", "emb": "yes"}``.

    Its columns are fixed-width: the dashes under the header give each one's span."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(content)
        handle.flush()
        out = subprocess.run(["pdffonts", handle.name], capture_output=True, check=True)
    header, dashes, *rows = out.stdout.decode().splitlines()
    spans = [match.span() for match in re.finditer(r"-+", dashes)]
    names = [header[start:end].strip() for start, end in spans]
    return [
        {name: row[start:end].strip() for name, (start, end) in zip(names, spans, strict=True)}
        for row in rows
    ]


def pdfa_identification(content: bytes) -> tuple[str, str]:
    """``pdfaid:part`` and ``pdfaid:conformance`` from the XMP metadata, read with pikepdf."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        metadata = pdf.open_metadata()
        return str(metadata.get("pdfaid:part", "")), str(metadata.get("pdfaid:conformance", ""))


def pdfa_structure(content: bytes) -> dict[str, bool]:
    """A few PDF/A requirements beside the XMP, read with pikepdf: a PDF/A output intent
    with its ICC profile, a file identifier in the trailer, no encryption."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        intents = pdf.Root.get("/OutputIntents", pikepdf.Array())
        return {
            "output_intent": any(
                intent.get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in intent
                for intent in intents
            ),
            "identifier": "/ID" in pdf.trailer,
            "encrypted": pdf.is_encrypted,
        }


def catalog_language(content: bytes) -> str:
    """The document's language, ``/Lang`` in the catalog."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return str(pdf.Root.get("/Lang", ""))


# DejaVu Serif, Times, Liberation Serif, Nimbus Roman…: what a page falls back to when a
# margin box does not inherit the body's font.
SERIF_FONTS = re.compile(r"serif|times|roman|georgia", re.IGNORECASE)


def assert_archival(content: bytes) -> None:
    """``content`` declares PDF/A-2b in its XMP metadata, has an sRGB output intent and a
    file identifier, and embeds every font it uses, all sans-serif (footers included). What veraPDF would check beyond this is not checked here
    (README, « PDF »)."""
    assert pdfa_identification(content) == ("2", "B")
    assert pdfa_structure(content) == {
        "output_intent": True,
        "identifier": True,
        "encrypted": False,
    }
    fonts = pdf_fonts(content)
    assert fonts, "no font listed"
    assert [font["name"] for font in fonts if font["emb"] != "yes"] == []
    assert [font["name"] for font in fonts if SERIF_FONTS.search(font["name"])] == []


def structure_types(content: bytes) -> list[str]:
    """The tagged structure's element types in reading order (``H1``, ``P``, ``Table``,
    ``TH``…), read with pikepdf: what a screen reader walks."""
    found = []

    def walk(element):
        if isinstance(element, pikepdf.Array):
            for kid in element:
                walk(kid)
        elif isinstance(element, pikepdf.Dictionary) and "/S" in element:
            found.append(str(element.S).lstrip("/"))
            walk(element.get("/K", pikepdf.Array()))

    with pikepdf.open(io.BytesIO(content)) as pdf:
        walk(pdf.Root.StructTreeRoot.K)
    return found
