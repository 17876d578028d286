"""Every file the platform hands over goes through here, so that every download gets the
same headers: offered as an attachment, never sniffed into another type, and, as an
attachment, sandboxed (a stored file that a browser would still render runs nothing).

The platform's own documents meant to be read in the browser (the printable call, the
open-data CSV, calendar feeds) are served inline, without the sandbox, which would stop
the browser's PDF viewer.

Every download is private (``Cache-Control: private, no-store``: no shared proxy, and no
browser cache on a shared workstation, keeps a copy) unless it is marked public: the
printable call and the open data, which anyone may read.
"""

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header

SANDBOX = "default-src 'none'; sandbox"
PUBLIC_MAX_AGE = 300


def _headers(response, *, inline: bool = False, public: bool = False):
    response["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response["Content-Security-Policy"] = SANDBOX
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        response["Cache-Control"] = "private, no-store"
    return response


def stored_file(field, filename: str) -> FileResponse:
    """A stored file (an upload, a template, a frozen PDF), as a private attachment."""
    return _headers(FileResponse(field.open("rb"), as_attachment=True, filename=filename))


def document(
    content: bytes | str,
    filename: str,
    content_type: str,
    *,
    inline: bool = False,
    public: bool = False,
):
    """A document the platform makes (PDF, CSV, XLSX, iCalendar)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not inline, filename=filename
    )
    return _headers(response, inline=inline, public=public)


def streamed(chunks, filename: str, content_type: str) -> StreamingHttpResponse:
    """A document made while it is sent (a ZIP archive), as a private attachment: the
    response never holds it whole."""
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return _headers(response)
