"""The file check shared by templates and dossiers: extension and content must agree."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from core.uploads import check_upload, clean_filename, sniff_format
from demo import modeles

PDF = modeles.sample_pdf("Curriculum vitae", ["Élodie Martin"])


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("cv.pdf", PDF, "pdf"),
        ("dossier.docx", modeles.funding_request_docx(), "docx"),
        ("dossier.odt", modeles.funding_request_odt(), "odt"),
        ("budget.xlsx", modeles.budget_xlsx(), "xlsx"),
    ],
)
def test_real_files_are_recognised(name, content, code):
    upload = SimpleUploadedFile(name, content)
    assert check_upload(upload, allowed_formats=[code], max_bytes=10_000_000) == code
    assert upload.tell() == 0  # the file is left ready to be stored


def test_files_spooled_to_disk_are_read_from_disk():
    upload = TemporaryUploadedFile("budget.xlsx", "application/octet-stream", 0, None)
    data = modeles.budget_xlsx()
    upload.write(data)
    upload.size = len(data)
    assert sniff_format(upload) == "xlsx"


def test_a_file_over_the_limit_is_refused():
    upload = SimpleUploadedFile("gros.pdf", PDF + b"0" * 3 * 1024 * 1024)
    with pytest.raises(ValidationError) as refusal:
        check_upload(upload, allowed_formats=["pdf"], max_bytes=2 * 1024 * 1024)
    assert "pèse 3,0\xa0Mio : la taille maximale est de 2,0\xa0Mio." in refusal.value.messages[0]


@pytest.mark.parametrize(
    ("name", "content", "allowed", "message"),
    [
        ("vide.pdf", b"", ["pdf"], "est vide"),
        ("programme.pdf", b"MZ\x90\x00" + b"\x00" * 4000, ["pdf"], "ne correspond pas"),
        ("script.exe", b"MZ\x90\x00" + b"\x00" * 4000, ["pdf"], "n'est pas accepté"),
        ("budget.xlsx", modeles.budget_xlsx(), ["pdf"], "Formats acceptés : PDF"),
        ("cv.docx", PDF, ["docx", "pdf"], "ne correspond pas"),
        ("cv", PDF, ["pdf"], "n'est pas accepté"),
    ],
)
def test_bad_files_are_refused_with_a_french_message(name, content, allowed, message):
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(ValidationError) as refusal:
        check_upload(upload, allowed_formats=allowed, max_bytes=1_000_000)
    assert message in refusal.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\camille\\CV Élodie.PDF", "CV Élodie.pdf"),
        ("cv\u202efdp.exe", "cvfdp.exe"),
        ("..hidden.pdf", "hidden.pdf"),
        ("budget<2024>:final?.xlsx", "budget_2024_final.xlsx"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
        ("   .pdf", "fichier.pdf"),
        ("Cafe\u0301.pdf", "Café.pdf"),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean
