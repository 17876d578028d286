"""Private storage never keeps half a file and never replaces one (core/storage.py); what
the views do with a full disk is tested beside them (tests/candidatures, tests/conventions,
``test_full_disk.py``)."""

import pytest
from django.core.files.base import ContentFile

from core.storage import PrivateFileSystemStorage, StorageUnavailable
from tests.disks import files_under, nearly_full_disk


def test_a_file_larger_than_the_space_left_leaves_nothing(tmp_path):
    with nearly_full_disk(tmp_path / "disque", free_bytes=8 * 1024) as root:
        storage = PrivateFileSystemStorage(location=root)

        with pytest.raises(StorageUnavailable) as refusal:
            storage.save("dossiers/piece.pdf", ContentFile(b"%PDF-1.7\n" + b"x" * 64 * 1024))

        assert "réessayez plus tard" in refusal.value.message
        assert files_under(root) == []  # neither the final name nor a temporary file
        # The same storage still takes what fits.
        assert storage.save("dossiers/petit.txt", ContentFile(b"ok")) == "dossiers/petit.txt"
        assert files_under(root) == ["dossiers/petit.txt"]


def test_a_name_taken_meanwhile_is_never_replaced(tmp_path):
    storage = PrivateFileSystemStorage(location=tmp_path)
    first = storage.save("piece.pdf", ContentFile(b"premier"))
    (tmp_path / "second.pdf").write_bytes(b"deja la")

    # ``_save`` is what runs when two requests chose the same free name at once.
    again = storage._save("piece.pdf", ContentFile(b"deuxieme"))
    taken = storage._save("second.pdf", ContentFile(b"troisieme"))

    assert (tmp_path / first).read_bytes() == b"premier"
    assert (tmp_path / "second.pdf").read_bytes() == b"deja la"
    assert again != first and (tmp_path / again).read_bytes() == b"deuxieme"
    assert taken != "second.pdf" and (tmp_path / taken).read_bytes() == b"troisieme"
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".partiel-")]
