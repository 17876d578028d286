"""Private storage that never keeps half a file.

Django's ``FileSystemStorage`` writes straight into the final name: when the disk fills up
mid-way, a truncated file stays under a name that a row may point to. Here a file is
written whole under a hidden temporary name in the same folder, flushed to the disk, and
only then given its final name with a hard link, which never replaces an existing file.
Whatever fails on the way (a full disk, a quota, a read-only or failing disk), the
temporary file is removed and ``StorageUnavailable`` is raised: a ``DomainError`` whose
French message the views show, or, where no view catches it, the 503 page
(``core.views.errors``). The transaction around the save rolls back, so no row points to
a file that is not there.
"""

import errno
import logging
import os
import tempfile
from contextlib import suppress

from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

# What a disk says when it cannot take a file: full, over quota, file too large for the
# system, read-only, failing.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}

TEMPORARY_PREFIX = ".partiel-"


class StorageUnavailable(DomainError):
    """A file could not be stored; nothing of it was kept."""

    def __init__(self, message=None):
        super().__init__(
            message
            or _(
                "Le fichier n'a pas pu être enregistré : l'espace de stockage de la plateforme "
                "est momentanément indisponible. Rien n'a été enregistré ; réessayez plus tard. "
                "Si le problème persiste, prévenez le service instructeur."
            )
        )


def is_storage_error(error: BaseException) -> bool:
    """A disk that cannot take a file, wherever it is met (a storage, a temporary file)."""
    return isinstance(error, StorageUnavailable) or (
        isinstance(error, OSError) and error.errno in STORAGE_ERRNOS
    )


class PrivateFileSystemStorage(FileSystemStorage):
    """``FileSystemStorage`` that gives a file its name only once it is whole."""

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        temporary = None
        try:
            os.makedirs(directory, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX)
            with os.fdopen(descriptor, "wb") as handle:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    handle.write(chunk.encode() if isinstance(chunk, str) else chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            while True:
                try:
                    _give_name(temporary, full_path)
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        except OSError as error:
            logger.error("Could not store %s", name, exc_info=True)
            raise StorageUnavailable() from error
        finally:
            if temporary is not None:
                with suppress(FileNotFoundError):
                    os.unlink(temporary)
        self._ensure_location_group_id(full_path)
        return os.path.relpath(full_path, self.location).replace("\\", "/")


def _give_name(temporary: str, full_path: str) -> None:
    """The whole file under its final name, never replacing another: a hard link, or on a
    file system without them, a rename after a check."""
    try:
        os.link(temporary, full_path)
    except OSError as error:
        if error.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}:
            raise
        if os.path.lexists(full_path):
            raise FileExistsError(full_path) from error
        os.rename(temporary, full_path)
