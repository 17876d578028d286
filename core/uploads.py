"""Checking an uploaded file: its extension and its content must name the same format,
what it carries must be harmless (``core.inspection``), and the antivirus (when
configured) must find nothing.

libmagic reads the content; an office file that libmagic only sees as a ZIP archive
is recognised by the parts every such file must carry. Used for the templates staff
upload here and for the candidates' documents.
"""

import hashlib
import re
import unicodedata
import zipfile
from pathlib import PurePath

import magic
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core import antivirus, inspection
from core.documents import FORMAT_SPECS, DocumentFormat, describe_formats, format_for_extension
from core.storage import StorageUnavailable

# OOXML and OpenDocument files are ZIP archives told apart by their parts.
_ZIP_MIMES = {"application/zip", "application/x-zip-compressed", "application/octet-stream"}
_OPENDOCUMENT_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": DocumentFormat.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": DocumentFormat.ODS,
}


def _format_from_zip(handle) -> str | None:
    try:
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                return _OPENDOCUMENT_MIMETYPES.get(archive.read("mimetype").strip())
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DocumentFormat.DOCX
                if "xl/workbook.xml" in names:
                    return DocumentFormat.XLSX
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def sniff_format(uploaded) -> str | None:
    """The format code the content of ``uploaded`` really has, or None."""
    uploaded.seek(0)
    if hasattr(uploaded, "temporary_file_path"):
        mime = magic.from_file(uploaded.temporary_file_path(), mime=True)
    else:
        # In-memory uploads are small (Django spools larger ones to disk).
        mime = magic.from_buffer(uploaded.read(), mime=True)
    uploaded.seek(0)
    for code, spec in FORMAT_SPECS.items():
        if mime in spec.mime_types:
            return code
    if mime in _ZIP_MIMES:
        found = _format_from_zip(uploaded)
        uploaded.seek(0)
        return found
    return None


def check_upload(uploaded, *, allowed_formats, max_bytes: int) -> str:
    """Return the file's format code, or raise a ``ValidationError`` in French."""
    name = PurePath(uploaded.name or "").name
    if uploaded.size == 0:
        raise ValidationError(_("Le fichier « %(name)s » est vide.") % {"name": name}, code="empty")
    if uploaded.size > max_bytes:
        raise ValidationError(
            _("Le fichier « %(name)s » pèse %(size)s : la taille maximale est de %(max)s.")
            % {
                "name": name,
                "size": filesizeformat(uploaded.size),
                "max": filesizeformat(max_bytes),
            },
            code="too_large",
        )
    allowed = describe_formats(allowed_formats)
    by_extension = format_for_extension(PurePath(name).suffix)
    if by_extension not in allowed_formats:
        raise ValidationError(
            _(
                "Le format du fichier « %(name)s » n'est pas accepté ici. Formats acceptés : %(allowed)s."
            )
            % {"name": name, "allowed": allowed},
            code="extension",
        )
    if by_extension in inspection.OFFICE_FORMATS and zipfile.is_zipfile(uploaded):
        # Before the content's type: a macro-enabled file renamed .docx is named as such.
        inspection.inspect(uploaded, by_extension, name=name)
    by_content = sniff_format(uploaded)
    if by_content != by_extension:
        raise ValidationError(
            _(
                "Le contenu du fichier « %(name)s » ne correspond pas à son extension "
                "(le fichier est peut-être endommagé ou renommé). Formats acceptés : %(allowed)s."
            )
            % {"name": name, "allowed": allowed},
            code="content",
        )
    if by_content not in inspection.OFFICE_FORMATS:
        inspection.inspect(uploaded, by_content, name=name)
    antivirus.scan(uploaded, name=name)
    return by_content


_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def clean_filename(name: str, *, max_length: int = 150) -> str:
    """A name safe to show and to offer for download; files are stored under random keys.

    Keeps letters with accents, drops directories, control and reserved characters,
    leading dots, and shortens long names while keeping the extension.
    """
    name = unicodedata.normalize("NFC", PurePath(name.replace("\\", "/")).name)
    # Invisible format characters (such as right-to-left overrides) disguise extensions.
    name = "".join(char for char in name if unicodedata.category(char) != "Cf")
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = " ".join(name.split())
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension.strip()[:10].lower()
    stem = stem.strip(" ._")[: max_length - len(extension) - 1].rstrip(" ._") or "fichier"
    return f"{stem}.{extension}" if extension else stem


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Writes each upload to a temporary file while computing its SHA-256 and size.

    Nothing is held in memory beyond one chunk. A file larger than ``max_bytes`` is
    skipped as soon as it passes the limit (``too_large`` lists its name), so that a
    huge file neither fills the disk nor reaches the view.
    """

    def __init__(self, request=None, *, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large: list[str] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._sha256 = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self.max_bytes is not None and self._size > self.max_bytes:
            self.too_large.append(self.file_name)
            self.file.close()
            raise SkipFile
        self._sha256.update(raw_data)
        try:
            return super().receive_data_chunk(raw_data, start)
        except OSError as error:
            # A full temporary folder: the partial file goes now, not when the request is
            # collected, and the person reads the 503 page (core.views.errors).
            self.file.close()
            raise StorageUnavailable() from error

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._sha256.hexdigest()
        return uploaded


def sha256_of(handle, chunk_size: int = 1024 * 1024) -> str:
    """The SHA-256 of a file read chunk by chunk (files that did not pass the handler)."""
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(chunk_size), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


class StreamedUploadMixin:
    """Receive one file streamed to disk while it is hashed; a file over ``max_bytes`` is
    dropped as soon as it passes the limit.

    The upload handlers must be set before the body is read, hence CSRF is checked inside
    (``csrf_protect``) once they are in place. Subclasses implement ``receive(request,
    files, too_large, *args, **kwargs)``, with the view's URL arguments.
    """

    max_bytes: int = 0

    def get_max_bytes(self) -> int:
        """The largest file accepted; called once the rule has passed (``get_object``)."""
        return self.max_bytes

    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_object()  # the rule is checked before anything is read
        handler = HashingUploadHandler(request, max_bytes=self.get_max_bytes())
        request.upload_handlers = [handler]

        def view(request):
            files = request.FILES  # streamed now: ``too_large`` is known afterwards
            return self.receive(request, files, handler.too_large, *args, **kwargs)

        return csrf_protect(view)(request)
