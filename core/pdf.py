"""PDFs rendered by WeasyPrint from HTML templates, reading nothing but our static files.

WeasyPrint's default fetcher follows any URL: a ``file:///etc/passwd`` typed by a user
would be read, or embedded as an attachment. Ours answers ``data:`` URLs and files
under our static folders, and refuses everything else.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

STATIC_PREFIX = "static:"


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


def render_pdf(template: str, context: dict) -> bytes:
    """Render ``template`` to PDF bytes. Its assets are named ``static:css/pdf.css``.

    There is no base URL: a relative address in user text resolves to nothing.
    """
    html = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    document = weasyprint.HTML(string=html, url_fetcher=StaticOnlyURLFetcher())
    return document.write_pdf()
