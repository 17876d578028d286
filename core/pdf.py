"""PDFs rendered by WeasyPrint from HTML templates, reading nothing but our static files.

WeasyPrint's default fetcher follows any URL: a ``file:///etc/passwd`` typed by a user
would be read, or embedded as an attachment. Ours answers ``data:`` URLs and files
under our static folders, and refuses everything else.

Every document is written in one of two PDF profiles (README, « PDF »): the acts the
Département keeps (receipts, letters, committee records, rankings, agreements, avenants)
as PDF/A-2b for the archives, the public call as tagged PDF/UA-1 for screen readers.
"""

import hashlib
import mimetypes
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from weasyprint.text.fonts import FontConfiguration

from core.kept import kept

STATIC_PREFIX = "static:"
# How long a rendered public PDF stays in the cache: a version is rendered at most once a
# day per cache (per process with the default locmem cache, once for all with Redis).
PDF_CACHE_SECONDS = 24 * 60 * 60

# PDF/A-2b: fonts embedded, colours tied to an sRGB output intent, XMP metadata declaring
# the part and conformance. Part 2 rather than 3: these acts embed no file (part 3's only
# addition), and part 2 is what archive services accept most widely; WeasyPrint also drops
# any non-PDF attachment from a part 2 file. Its output stays deterministic: the file
# identifier is a hash of the content, and no date or random id is written.
ARCHIVAL = "pdf/a-2b"
# PDF/UA-1: tagged (headings, lists, tables with their header cells), with the document's
# title shown by readers and the language from ``<html lang>``.
ACCESSIBLE = "pdf/ua-1"


class StaticOnlyURLFetcher(weasyprint.urls.URLFetcher):
    def __init__(self):
        super().__init__(timeout=2, allowed_protocols={"data", "static"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        if url.startswith(STATIC_PREFIX):
            path = _static_path(url.removeprefix(STATIC_PREFIX).lstrip("/"))
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )
        if not url.startswith("data:"):
            raise ValueError(f"Refused URL in a PDF: {url[:80]}")
        return super().fetch(url, headers)


def _static_path(relative: str) -> Path:
    relative = unquote(urlparse(relative).path)
    try:
        found = finders.find(relative)
    except SuspiciousFileOperation as error:
        raise ValueError(f"Refused static path: {relative}") from error
    if not found:
        raise ValueError(f"Unknown static file: {relative}")
    path = Path(found).resolve()
    roots = [Path(root).resolve() for root in settings.STATICFILES_DIRS]
    if not any(path.is_relative_to(root) for root in roots):
        raise ValueError(f"Static file outside our folders: {relative}")
    return path


def render_html(template: str, context: dict) -> str:
    return render_to_string(template, {"site_url": settings.SITE_URL, **context})


def html_to_pdf(html: str, *, variant: str = ARCHIVAL) -> bytes:
    """PDF bytes from HTML, as PDF/A (``ARCHIVAL``) or tagged PDF/UA (``ACCESSIBLE``).
    Its assets are named ``static:css/pdf.css``.

    There is no base URL: a relative address in user text resolves to nothing.
    """
    document = weasyprint.HTML(string=html, url_fetcher=StaticOnlyURLFetcher())
    return document.write_pdf(pdf_variant=variant, font_config=_font_configuration())


_fonts = threading.local()


def _font_configuration() -> FontConfiguration:
    """One font configuration per thread, kept between PDFs: a new one per PDF (WeasyPrint's
    default) leaves Pango's font maps behind, and a worker rendering 400 PDFs in a row
    (a call's archive) grew by 1 MB every two of them. Per thread, as Pango's are not
    shared safely between threads."""
    if not hasattr(_fonts, "configuration"):
        _fonts.configuration = FontConfiguration()
    return _fonts.configuration


def render_pdf(template: str, context: dict, *, variant: str = ARCHIVAL) -> bytes:
    """Render ``template`` to PDF bytes."""
    return html_to_pdf(render_html(template, context), variant=variant)


def render_pdf_once(template: str, context: dict, *, variant: str = ARCHIVAL) -> tuple[bytes, str]:
    """The PDF of ``template`` and its version, rendered by WeasyPrint once per version.

    The HTML is rendered first (a few milliseconds); its SHA-256 with the PDF profile is
    the version and keys the cache, so any change of what the document shows (a text, a lot, a weight, an
    answer published) makes a new version, and nothing else does. The context must not
    hold the time of the request. A cache that fails costs a rendering, never an error."""
    html = render_html(template, context)
    # The profile is part of the version: a browser holding an untagged copy gets the new one.
    version = hashlib.sha256(f"{variant}\n{html}".encode()).hexdigest()
    pdf = kept(
        f"pdf:{template}:{version}",
        lambda: html_to_pdf(html, variant=variant),
        PDF_CACHE_SECONDS,
        template,
    )
    return pdf, version
