"""PDFs read our static files and nothing else, whatever a user typed."""

import subprocess

import pytest
from django.template import engines

from core import pdf
from tests.pdf import pdf_text


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
