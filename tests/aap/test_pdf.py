"""PDFs read our static files and nothing else, whatever a user typed."""

import subprocess

import pytest
from django.template import engines

from core import pdf
from tests.pdf import assert_archival, catalog_language, pdf_info, pdf_text, structure_types


def render(html_body: str) -> bytes:
    template = engines["django"].from_string(
        "<html><head><link rel='stylesheet' href='static:css/pdf.css'></head>"
        "<body><p>Début</p>{{ body|safe }}<p>Fin</p></body></html>"
    )
    document = pdf.weasyprint.HTML(
        string=template.render({"body": html_body}), url_fetcher=pdf.StaticOnlyURLFetcher()
    )
    return document.write_pdf()


@pytest.mark.parametrize(
    "hostile",
    [
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        "<div style=\"background: url('file:///etc/passwd')\">x</div>",
        '<img src="http://127.0.0.1:1/x.png">',
        "<style>@import url('file:///etc/passwd');</style>",
        '<object data="file:///etc/passwd"></object>',
    ],
)
def test_user_markup_never_reads_a_local_file_or_the_network(hostile, tmp_path):
    content = render(hostile)
    assert b"root:x:0:0" not in content
    assert pdf_text(content, order="reading").startswith("Début")
    (tmp_path / "out.pdf").write_bytes(content)
    attachments = subprocess.run(
        ["pdfdetach", "-list", str(tmp_path / "out.pdf")], capture_output=True, text=True
    ).stdout
    assert "0 embedded files" in attachments


def test_the_fetcher_refuses_other_schemes_and_paths_outside_static():
    fetcher = pdf.StaticOnlyURLFetcher()
    for url in [
        "file:///etc/passwd",
        "http://example.org/",
        "static:../../etc/passwd",
        "static:/etc/passwd",
        "ftp://example.org/x",
    ]:
        with pytest.raises(ValueError):
            fetcher(url)
    assert fetcher("static:css/pdf.css").read().startswith(b"@page")


def test_escaped_user_text_shows_as_text(db):
    from aap.templatetags.aap_tags import rich_text

    content = render(str(rich_text('<img src="file:///etc/passwd"> et url(file:///etc/passwd)')))
    assert '<img src="file:///etc/passwd"> et url(file:///etc/passwd)' in pdf_text(
        content, order="reading"
    )


PAGES = (
    "<html lang='fr'><head><title>Acte</title>"
    "<link rel='stylesheet' href='static:css/pdf.css'></head><body>"
    + "<p>Paragraphe de l'acte.</p>" * 120
    + "</body></html>"
)


def test_acts_are_pdfa_2b_with_every_font_embedded_and_sans_serif_footers():
    content = pdf.html_to_pdf(PAGES)

    assert_archival(content)
    info = pdf_info(content)
    assert int(info["Pages"]) > 1 and info["Tagged"] == "no"
    assert "Page 2 /" in pdf_text(content)  # the footer, in the body's font


def test_an_act_rendered_twice_is_the_same_bytes():
    """Frozen acts keep their SHA-256: the renderer writes no date and no random id, and
    the font configuration shared between PDFs leaves nothing of the one rendered between."""
    first = pdf.html_to_pdf(PAGES)
    pdf.html_to_pdf("<html lang='fr'><body><p><b>Œuvre</b> ¶ ÆŸ 12 345,67 €</p></body></html>")
    assert pdf.html_to_pdf(PAGES) == first


def test_the_accessible_profile_tags_the_pdf_with_its_title_and_language():
    content = pdf.html_to_pdf(PAGES, variant=pdf.ACCESSIBLE)

    info = pdf_info(content)
    assert info["Tagged"] == "yes" and info["Title"] == "Acte"
    assert catalog_language(content) == "fr"
    assert structure_types(content).count("P") == 120
