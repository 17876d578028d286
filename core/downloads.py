"""Every file the platform hands over goes through here, so that every download gets the
same headers: offered as an attachment, never sniffed into another type, and, as an
attachment, sandboxed (a stored file that a browser would still render runs nothing).

The platform's own documents meant to be read in the browser (the printable call, the
open-data CSV, calendar feeds) are served inline, without the sandbox, which would stop
the browser's PDF viewer.
"""

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

SANDBOX = "default-src 'none'; sandbox"


def _headers(response, *, inline: bool = False):
    response["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response["Content-Security-Policy"] = SANDBOX
    return response


def stored_file(field, filename: str) -> FileResponse:
    """A stored file (an upload, a template, a frozen PDF), as an attachment."""
    return _headers(FileResponse(field.open("rb"), as_attachment=True, filename=filename))


def document(content: bytes | str, filename: str, content_type: str, *, inline: bool = False):
    """A document the platform makes (PDF, CSV, XLSX, iCalendar)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not inline, filename=filename
    )
    return _headers(response, inline=inline)
