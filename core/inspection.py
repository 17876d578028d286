"""What an uploaded file carries, and what staff must never open.

The extension and libmagic say what a file claims to be; this module looks inside, with
well-kept libraries rather than hand parsing, and refuses with a French message what
could act on a workstation when the file is opened:

- PDF (pikepdf, on qpdf): JavaScript, automatic actions (an OpenAction that runs an
  action, AA), Launch actions,
  embedded files and attachments, XFA forms, rich media, encryption; a PDF that does not
  parse; a PDF whose first kilobyte is HTML or script (a polyglot a browser would run);
- OOXML and OpenDocument files, which are ZIP archives (``zipfile``, never extracted to
  disk): too many entries, too much once uncompressed or too high a compression ratio
  (zip bombs), entries with ``..``, absolute paths or symbolic links, encryption; macros
  (oletools, and the macro-enabled content types whatever the extension), external
  relationships other than hyperlinks (remote templates, linked images), ActiveX and OLE
  objects; XML with a DTD or entities (defusedxml), such as an entity bomb.

ClamAV still scans every file afterwards (``core.antivirus``).
"""

import io
import re
import stat
import zipfile
from pathlib import PurePosixPath

import pikepdf
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml_safely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from oletools.olevba import VBA_Parser

from core.documents import DocumentFormat

OFFICE_FORMATS = {DocumentFormat.DOCX, DocumentFormat.XLSX, DocumentFormat.ODT, DocumentFormat.ODS}

# PDF names whose presence means the file can act by itself when opened.
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/XFA", "/RichMedia"}
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/Rendition"}
PDF_ATTACHMENT_MARKS = {"/EmbeddedFile", "/EmbeddedFiles", "/FileAttachment"}
# What a browser would run if it took the file for a web page.
POLYGLOT = re.compile(rb"<\s*(html|script|body|iframe|svg|!doctype|object|embed)\b", re.I)
POLYGLOT_WINDOW = 1024

MACRO_CONTENT = re.compile(rb"macroEnabled|vbaProject|vbaData|ms-office\.activeX", re.I)
ACTIVE_PARTS = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml|activeX/|Basic/|Scripts/)", re.I)
OLE_PARTS = re.compile(r"(^|/)embeddings/.*\.(bin|ole)$|oleObject", re.I)
EXTERNAL_TARGET = re.compile(rb'TargetMode\s*=\s*["\']External["\']', re.I)
RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>", re.I)
HYPERLINK_TYPE = re.compile(rb'Type\s*=\s*["\'][^"\']*/hyperlink["\']', re.I)


class Refused(ValidationError):
    pass


def _refuse(code: str, message: str, name: str):
    raise Refused(message % {"name": name}, code=code)


def inspect(uploaded, file_format: str, *, name: str) -> None:
    """Raise a French ``ValidationError`` if ``uploaded`` carries what must not be opened."""
    uploaded.seek(0)
    try:
        if file_format == DocumentFormat.PDF:
            inspect_pdf(uploaded, name=name)
        elif file_format in OFFICE_FORMATS:
            inspect_office(uploaded, name=name)
    finally:
        uploaded.seek(0)


# --- PDF --------------------------------------------------------------------------------------------


def inspect_pdf(handle, *, name: str) -> None:
    head = handle.read(POLYGLOT_WINDOW)
    handle.seek(0)
    if POLYGLOT.search(head) or not head.lstrip().startswith(b"%PDF-"):
        _refuse(
            "pdf_polyglot",
            _(
                "Le fichier « %(name)s » ne commence pas comme un PDF (il contient du code de "
                "page web) : il est refusé. Enregistrez-le de nouveau en PDF et déposez-le."
            ),
            name,
        )
    try:
        with pikepdf.open(handle) as pdf:
            if pdf.is_encrypted:
                _refuse_encrypted_pdf(name)
            for obj in pdf.objects:
                _check_pdf_object(obj, name)
    except pikepdf.PasswordError:
        _refuse_encrypted_pdf(name)
    except pikepdf.PdfError:
        _refuse(
            "pdf_unreadable",
            _(
                "Le fichier « %(name)s » n'est pas un PDF lisible (il est peut-être endommagé) : "
                "il est refusé. Enregistrez-le de nouveau en PDF et déposez-le."
            ),
            name,
        )


def _refuse_encrypted_pdf(name):
    _refuse(
        "pdf_encrypted",
        _(
            "Le fichier « %(name)s » est protégé par un mot de passe ou chiffré : il est "
            "refusé. Déposez une version sans protection."
        ),
        name,
    )


def _walk(obj, depth: int = 0):
    """``obj`` and the direct objects inside it; indirect ones are visited on their own
    (``pdf.objects``), which also stops reference cycles."""
    if depth > 64:  # no real document nests this deep
        return
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if isinstance(obj, pikepdf.Dictionary):
        yield obj
        children = (obj.get(key) for key in obj)
    elif isinstance(obj, pikepdf.Array):
        children = iter(obj)
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
            yield from _walk(child, depth + 1)


def _check_pdf_object(obj, name: str) -> None:
    for dictionary in _walk(obj):
        _check_pdf_dictionary(dictionary, name)


def _check_pdf_dictionary(obj, name: str) -> None:
    keys = set(obj.keys())
    values = {str(obj.get(key)) for key in ("/S", "/Type", "/Subtype") if key in obj}
    if keys & PDF_ATTACHMENT_MARKS or values & PDF_ATTACHMENT_MARKS:
        _refuse(
            "pdf_attachment",
            _(
                "Le fichier « %(name)s » contient des fichiers joints : il est refusé. Déposez "
                "chaque pièce séparément, dans un PDF sans pièce jointe."
            ),
            name,
        )
    # An OpenAction that only shows a page (a destination, as LibreOffice writes) is
    # harmless; one that runs an action is not.
    opening = obj.get("/OpenAction")
    runs_on_opening = isinstance(opening, pikepdf.Dictionary) and str(opening.get("/S")) != "/GoTo"
    if keys & PDF_ACTIVE_KEYS or values & PDF_ACTIVE_ACTIONS or runs_on_opening:
        _refuse(
            "pdf_active",
            _(
                "Le fichier « %(name)s » contient du code (JavaScript), des actions "
                "automatiques ou un formulaire actif : il est refusé. Enregistrez-le de "
                "nouveau en PDF simple (par « Imprimer en PDF ») et déposez-le."
            ),
            name,
        )


# --- Office files and their archive -------------------------------------------------------------------


def inspect_office(handle, *, name: str) -> None:
    data = handle.read()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        _refuse(
            "archive_unreadable",
            _("Le fichier « %(name)s » est endommagé : il est refusé."),
            name,
        )
    with archive:
        entries = _check_archive(archive, name)
        for entry in entries:
            if ACTIVE_PARTS.search(entry.filename):
                _refuse_macros(name)
            if OLE_PARTS.search(entry.filename):
                _refuse_objects(name)
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")) or entry.filename == "mimetype":
                _check_part(entry.filename, archive.read(entry), name)
    parser = VBA_Parser(name, data=data)
    try:
        if parser.detect_vba_macros():
            _refuse_macros(name)
    finally:
        parser.close()


def _check_archive(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    entries = archive.infolist()
    if len(entries) > settings.UPLOAD_ARCHIVE_MAX_ENTRIES:
        _refuse(
            "archive_entries",
            _("Le fichier « %(name)s » contient trop d'éléments : il est refusé."),
            name,
        )
    total = 0
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        mode = entry.external_attr >> 16
        if (
            ".." in path.parts
            or path.is_absolute()
            or re.match(r"^[A-Za-z]:", entry.filename)
            or stat.S_ISLNK(mode)
        ):
            _refuse(
                "archive_paths",
                _(
                    "Le fichier « %(name)s » contient des chemins interdits (vers d'autres "
                    "dossiers ou des liens) : il est refusé."
                ),
                name,
            )
        if entry.flag_bits & 0x1:
            _refuse(
                "archive_encrypted",
                _(
                    "Le fichier « %(name)s » est protégé par un mot de passe ou chiffré : il "
                    "est refusé. Déposez une version sans protection."
                ),
                name,
            )
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if total > settings.UPLOAD_ARCHIVE_MAX_UNCOMPRESSED_MB * 1024 * 1024 or (
            entry.file_size > 1024 * 1024 and ratio > settings.UPLOAD_ARCHIVE_MAX_RATIO
        ):
            _refuse(
                "archive_bomb",
                _("Le fichier « %(name)s » devient démesuré une fois décompressé : il est refusé."),
                name,
            )
    return entries


def _check_part(part: str, content: bytes, name: str) -> None:
    if MACRO_CONTENT.search(content) and part in ("[Content_Types].xml", "META-INF/manifest.xml"):
        _refuse_macros(name)
    if part == "META-INF/manifest.xml" and b"oleobject" in content.lower():
        _refuse_objects(name)
    if part.endswith(".rels"):
        for relationship in RELATIONSHIP.findall(content):
            if EXTERNAL_TARGET.search(relationship) and not HYPERLINK_TYPE.search(relationship):
                _refuse(
                    "office_external",
                    _(
                        "Le fichier « %(name)s » fait appel à un contenu extérieur (modèle ou "
                        "image à distance) : il est refusé. Enregistrez-le de nouveau sans "
                        "liaison et déposez-le."
                    ),
                    name,
                )
    if part == "mimetype":
        return
    try:
        parse_xml_safely(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        _refuse(
            "office_xml",
            _(
                "Le fichier « %(name)s » contient des déclarations XML interdites (DTD ou "
                "entités) : il est refusé."
            ),
            name,
        )
    except Exception:  # malformed XML (ParseError, and what expat raises on garbage)
        _refuse(
            "archive_unreadable",
            _("Le fichier « %(name)s » est endommagé : il est refusé."),
            name,
        )


def _refuse_macros(name):
    _refuse(
        "office_macros",
        _(
            "Le fichier « %(name)s » contient des macros : il est refusé. Enregistrez-le au "
            "format sans macros (.docx, .xlsx, .odt ou .ods) et déposez-le."
        ),
        name,
    )


def _refuse_objects(name):
    _refuse(
        "office_objects",
        _(
            "Le fichier « %(name)s » contient des objets actifs (ActiveX ou OLE) : il est "
            "refusé. Enregistrez-le de nouveau sans ces objets et déposez-le."
        ),
        name,
    )
