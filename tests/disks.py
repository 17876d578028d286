"""A real file system that is (nearly) full: a small tmpfs, mounted for one test.

Mounting needs root (the CI machine and `make test` run as root); elsewhere the tests that
use it are skipped with the reason."""

import contextlib
import os
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def nearly_full_disk(path: Path, *, free_bytes: int, size: str = "256k"):
    """``path`` on a tmpfs of ``size`` filled up until about ``free_bytes`` are left."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system (a full disk) needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        filler = path / "remplissage"
        with filler.open("wb") as handle:
            total = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
            handle.write(b"\0" * max(0, total - free_bytes))
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def files_under(root: Path, *, but: tuple[str, ...] = ("remplissage",)) -> list[str]:
    """Every file under ``root`` (hidden temporary ones included), the filler excepted."""
    return sorted(
        str(found.relative_to(root))
        for found in root.rglob("*")
        if found.is_file() and found.name not in but
    )


# What a person reads when the storage cannot take a file (core.storage.StorageUnavailable).
STORAGE_MESSAGE = (
    "Le fichier n'a pas pu être enregistré : l'espace de stockage de la plateforme est "
    "momentanément indisponible. Rien n'a été enregistré ; réessayez plus tard."
)


def use_private_storage(settings, root: Path) -> Path:
    """Private storage in ``root`` for the rest of the test."""
    settings.PRIVATE_MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    return root
