"""The ZIP written as it is read: a large entry goes out chunk by chunk and is never held
whole, the archive reads back intact, and names from strangers are made safe and unique."""

import hashlib
import itertools
import tracemalloc
import zipfile

from archives.zipstream import CHUNK, Entry, Folder, ZipWriter


def test_a_large_entry_goes_out_in_chunks_never_held_whole(tmp_path):
    size = 24 * 1024 * 1024
    block = bytes(range(256)) * (CHUNK // 256)

    def chunks():
        for _ in range(size // CHUNK):
            yield block

    writer = ZipWriter()
    target = tmp_path / "archive.zip"
    biggest = 0
    tracemalloc.start()
    try:
        with target.open("wb") as handle:
            stream = itertools.chain(
                writer.add(Entry("pieces/gros fichier.bin", chunks, "Un gros fichier")),
                writer.close(),
            )
            for piece in stream:
                biggest = max(biggest, len(piece))
                handle.write(piece)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Each piece is one chunk and its headers; Python never held more than a few chunks.
    assert biggest <= CHUNK + 1024
    assert peak < 4 * CHUNK
    [written] = writer.written
    expected = hashlib.sha256(block * (size // CHUNK)).hexdigest()
    assert (written.path, written.size, written.sha256) == (
        "pieces/gros fichier.bin",
        size,
        expected,
    )
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        with archive.open("pieces/gros fichier.bin") as member:
            digest = hashlib.sha256()
            while data := member.read(CHUNK):
                digest.update(data)
        assert digest.hexdigest() == expected


def test_names_from_strangers_are_made_safe_and_unique():
    folder = Folder("pieces/CV")
    assert folder.name("../../etc/passwd") == "pieces/CV/passwd"
    assert folder.name('CV "Léa" <2027>?.pdf') == "pieces/CV/CV _Léa_ _2027.pdf"
    assert folder.name("cv.PDF") == "pieces/CV/cv.pdf"
    assert folder.name("CV.pdf") == "pieces/CV/CV (2).pdf"  # the same name, whatever the case
    assert folder.name("\u202efdp.exe") == "pieces/CV/fdp.exe"  # no right-to-left override
    assert folder.name("...") == "pieces/CV/fichier"
