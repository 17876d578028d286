"""Every file the platform hands over goes through core.downloads: the same headers
everywhere (attachment, nosniff, sandboxed), whichever app serves it."""

import re
from pathlib import Path

from django.core.files.base import ContentFile

from core import downloads

BASE_DIR = Path(__file__).resolve().parent.parent
APPS = ["core", "aap", "candidatures", "evaluation", "conventions"]


def test_a_stored_file_is_a_sandboxed_attachment_never_sniffed(tmp_path):
    stored = ContentFile(b"<html><script>alert(1)</script></html>", name="cv.pdf")
    response = downloads.stored_file(stored, "CV de Jérôme.pdf")

    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''CV%20de%20J%C3%A9r%C3%B4me.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_document_the_platform_makes_is_an_attachment_unless_read_in_the_browser():
    attachment = downloads.document(b"%PDF-1.7", "accuse.pdf", "application/pdf")
    inline = downloads.document("a;b\n", "subventions.csv", "text/csv", inline=True)

    assert attachment["Content-Disposition"] == 'attachment; filename="accuse.pdf"'
    assert attachment["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert inline["Content-Disposition"] == 'inline; filename="subventions.csv"'
    # No sandbox inline: it would stop the browser's PDF viewer on the printable call.
    assert "Content-Security-Policy" not in inline
    assert attachment["X-Content-Type-Options"] == inline["X-Content-Type-Options"] == "nosniff"


def test_downloads_are_private_unless_marked_public():
    stored = downloads.stored_file(ContentFile(b"%PDF-1.7", name="a.pdf"), "a.pdf")
    made = downloads.document(b"a;b", "export.csv", "text/csv")
    feed = downloads.document("BEGIN:VCALENDAR", "a.ics", "text/calendar", inline=True)
    public = downloads.document(b"%PDF-1.7", "AAP.pdf", "application/pdf", inline=True, public=True)

    for response in (stored, made, feed):
        assert response["Cache-Control"] == "private, no-store"
    assert public["Cache-Control"] == "public, max-age=300"


def test_no_view_builds_a_download_by_hand():
    by_hand = re.compile(r"Content-Disposition|as_attachment=True|FileResponse\(")
    found = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for app in APPS
        for path in (BASE_DIR / app).rglob("*.py")
        if path.name != "downloads.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if by_hand.search(line)
    ]
    assert found == []
