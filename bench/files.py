"""Real files for the uploads of the bench: the demo call's templates (``demo.modeles``)
padded to a chosen size with random bytes, so that every file is unique and the platform
recognises each by its content (libmagic), as it would a candidate's file.

- PDF: ``sample_pdf`` plus an unreferenced stream object, with the cross-reference
  table rewritten: readers still open it.
- DOCX and XLSX: the template plus a stored (uncompressed) XML part at the end of the
  archive; the parts libmagic looks for stay first.
"""

import base64
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from demo import modeles

MIB = 1024 * 1024


@dataclass(frozen=True)
class File:
    path: Path
    name: str  # the name sent in the multipart body
    size: int
    sha256: str


def padded_pdf(size: int, *, title: str = "Attestation d'engagement") -> bytes:
    base = modeles.sample_pdf(
        title,
        [
            "Je soussigné(e), représentant(e) légal(e) de la structure, m'engage à mettre en "
            "oeuvre le projet décrit dans le dossier de demande de financement.",
            "Fait à Grenoble, le 16 septembre 2024.",
        ],
    )
    xref_at = int(re.search(rb"startxref\n(\d+)\n", base).group(1))
    table = base[xref_at:].split(b"trailer", 1)[0].splitlines()
    count = int(table[1].split()[1])  # "0 N": objects 0 to N-1
    offsets = [line[:10] for line in table[3 : 2 + count]]
    body = bytearray(base[:xref_at])
    header = b"%d 0 obj\n<< /Length %%d >>\nstream\n" % count
    overhead = len(body) + len(header) + 40 + 20 * (count + 2) + 120
    padding = os.urandom(max(0, size - overhead))
    offsets.append(b"%010d" % len(body))
    body += header % len(padding) + padding + b"\nendstream\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1)
    body += b"".join(offset + b" 00000 n \n" for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        count + 1,
        xref,
    )
    return bytes(body)


def _padded_ooxml(base: bytes, size: int) -> bytes:
    """``base`` plus an unreferenced XML part, stored, that brings it to about ``size``."""
    room = max(0, size - len(base) - 200)
    text = base64.b64encode(os.urandom(room * 3 // 4 + 3))[:room]
    buffer = io.BytesIO(base)
    with zipfile.ZipFile(buffer, "a") as archive:
        info = zipfile.ZipInfo("customXml/item1.xml", date_time=(2024, 9, 16, 12, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        archive.writestr(info, b'<?xml version="1.0"?><padding>' + text + b"</padding>")
    return buffer.getvalue()


def padded_docx(size: int) -> bytes:
    return _padded_ooxml(modeles.funding_request_docx(), size)


def padded_xlsx(size: int) -> bytes:
    return _padded_ooxml(modeles.budget_xlsx(), size)


BUILDERS = {"pdf": padded_pdf, "docx": padded_docx, "xlsx": padded_xlsx}


def write(folder: Path, name: str, size: int) -> File:
    """Build a file of about ``size`` bytes in the format of ``name``'s extension."""
    content = BUILDERS[name.rsplit(".", 1)[1]](size)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return File(path, name, len(content), hashlib.sha256(content).hexdigest())
