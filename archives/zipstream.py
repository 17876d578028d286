"""A ZIP written as it is read: the standard library's ``zipfile`` writing into a sink
that hands its bytes on at once, never the whole archive in memory.

``zipfile`` writes to a stream it cannot seek (since Python 3.5): each entry carries a
data descriptor after its content, so nothing written has to be rewritten. Stored files
are read from storage in chunks; each entry's SHA-256 is computed from the very bytes put
into the ZIP, and ``manifest.csv`` is written last, from those figures.

Why not zipstream-ng: it would give the archive's length before it is made, but only when
every entry's size is known, and our PDFs are rendered when the stream reaches them. The
standard module does the rest (ZIP64, data descriptors, deflate), is kept with Python, and
writes the same bytes to a response or to a file (a call's archive, built by a task).
"""

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from core import spreadsheets
from core.exceptions import DomainError
from core.uploads import clean_filename

CHUNK = 256 * 1024
# Already compressed (PDF, office files, images): stored as they are; our CSV deflated.
DEFLATED_SUFFIXES = (".csv", ".txt")


class MissingFile(DomainError):
    """A file the platform recorded is no longer in its storage."""


class _Sink(io.RawIOBase):
    """Where ``zipfile`` writes: bytes wait here until the generator takes them."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._parts.append(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self):
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


@dataclass
class Entry:
    """One file of the archive: its path, how to read it (chunks, read only when the
    stream reaches it), what it is in French, and the SHA-256 stored for it, if any."""

    path: str
    chunks: Callable[[], Iterable[bytes]]
    what: str
    stored_sha256: str = ""
    size: int | None = None


@dataclass
class Written:
    path: str
    size: int
    sha256: str
    what: str
    stored_sha256: str = ""

    @property
    def matches(self) -> bool | None:
        return None if not self.stored_sha256 else self.stored_sha256 == self.sha256


def stored_chunks(field_file, chunk_size: int = CHUNK) -> Callable[[], Iterator[bytes]]:
    """A stored file read in chunks, opened only when the stream reaches it."""

    def read():
        with field_file.storage.open(field_file.name, "rb") as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    return read


def generated(make: Callable[[], bytes]) -> Callable[[], Iterator[bytes]]:
    """A small document (a PDF, a CSV) made when the stream reaches it."""

    def read():
        yield make()

    return read


def csv_chunks(columns, rows: Callable[[], Iterable]) -> Callable[[], Iterator[bytes]]:
    return generated(lambda: spreadsheets.csv_bytes(columns, rows()))


class Folder:
    """Names inside one folder of the archive: cleaned, and made unique (« cv (2).pdf »)."""

    def __init__(self, path: str):
        self.path = path.strip("/")
        self.taken: set[str] = set()

    def name(self, wanted: str) -> str:
        name = clean_filename(wanted)
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        candidate, number = name, 1
        while candidate.lower() in self.taken:
            number += 1
            candidate = f"{stem} ({number}).{extension}" if dot else f"{stem} ({number})"
        self.taken.add(candidate.lower())
        return f"{self.path}/{candidate}" if self.path else candidate


@dataclass
class ZipWriter:
    """Entries in, bytes out. ``written`` lists what went in, for the manifests."""

    now: dt.datetime = field(default_factory=timezone.now)
    written: list[Written] = field(default_factory=list)

    def __post_init__(self):
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", allowZip64=True)
        local = timezone.localtime(self.now)
        self._date_time = (local.year, local.month, local.day, local.hour, local.minute, 0)

    def add(self, entry: Entry) -> Iterator[bytes]:
        info = zipfile.ZipInfo(entry.path, date_time=self._date_time)
        info.compress_type = (
            zipfile.ZIP_DEFLATED
            if entry.path.lower().endswith(DEFLATED_SUFFIXES)
            else zipfile.ZIP_STORED
        )
        info.external_attr = 0o640 << 16
        hasher, size = hashlib.sha256(), 0
        # An entry of unknown size gets ZIP64 fields: a file over 4 GB stays readable.
        with self._zip.open(info, "w", force_zip64=entry.size is None) as target:
            try:
                for chunk in entry.chunks():
                    hasher.update(chunk)
                    size += len(chunk)
                    target.write(chunk)
                    yield self._sink.take()
            except FileNotFoundError as error:
                raise MissingFile(
                    _(
                        "Le fichier « %(path)s » (%(what)s) est introuvable dans l'espace de "
                        "stockage de la plateforme : l'archive n'a pas pu être construite. "
                        "Prévenez l'administrateur."
                    )
                    % {"path": entry.path, "what": entry.what}
                ) from error
        yield self._sink.take()
        written = Written(entry.path, size, hasher.hexdigest(), entry.what, entry.stored_sha256)
        self.written.append(written)

    def close(self) -> Iterator[bytes]:
        self._zip.close()
        yield self._sink.take()


def manifest_columns() -> list[str]:
    return [
        _("Chemin"),
        _("Taille (octets)"),
        _("SHA-256"),
        _("SHA-256 enregistré par la plateforme"),
        _("Concordance"),
        _("Contenu"),
    ]


def manifest_rows(written: list[Written], *, strip: str = "") -> list[list]:
    rows = []
    for item in written:
        matches = item.matches
        rows.append(
            [
                item.path.removeprefix(strip),
                item.size,
                item.sha256,
                item.stored_sha256,
                "" if matches is None else (_("oui") if matches else _("NON")),
                item.what,
            ]
        )
    return rows


def manifest_entry(path: str, written: Callable[[], list[Written]], *, strip: str = "") -> Entry:
    """``manifest.csv``: each file's path (relative to the manifest's folder), size and
    SHA-256, the hash the platform stored for it, and what it is."""
    return Entry(
        path,
        csv_chunks(
            manifest_columns(),
            lambda: manifest_rows(written(), strip=strip),
        ),
        _("Manifeste : chemin, taille et empreinte SHA-256 de chaque fichier"),
    )
