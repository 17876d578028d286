"""A full disk while a candidate uploads a piece or a receipt is kept: told in French,
nothing half-written, no row, the receipt still given (core/storage.py)."""

import html
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidatures import services
from candidatures.models import Document
from candidatures.receipts import receipt_pdf
from tests.disks import STORAGE_MESSAGE, files_under, nearly_full_disk, use_private_storage

DATA = Path(__file__).resolve().parent.parent / "data" / "office"
PDF = (DATA / "bilan-libreoffice.pdf").read_bytes()  # 23 kB, accepted by every check


def test_a_candidate_uploading_to_a_full_disk_is_told_and_nothing_is_kept(
    client, candidate, dossier, full_private_root
):
    piece = dossier.call.required_documents.get(mandatory=True)
    client.force_login(candidate)

    response = client.post(
        reverse("candidatures:upload", args=[dossier.pk, piece.pk]),
        {"file": SimpleUploadedFile("budget.pdf", PDF)},
        follow=True,
    )

    assert response.status_code == 200
    assert STORAGE_MESSAGE in html.unescape(response.content.decode())
    assert not Document.objects.filter(candidature=dossier).exists()
    assert files_under(full_private_root) == []


def test_a_full_temporary_folder_gives_the_503_page_and_stores_nothing(
    client, candidate, dossier, private_root, settings, tmp_path
):
    piece = dossier.call.required_documents.get(mandatory=True)
    client.force_login(candidate)
    client.raise_request_exception = False
    with nearly_full_disk(tmp_path / "uploads", free_bytes=4 * 1024) as uploads:
        settings.FILE_UPLOAD_TEMP_DIR = str(uploads)

        response = client.post(
            reverse("candidatures:upload", args=[dossier.pk, piece.pk]),
            {"file": SimpleUploadedFile("budget.pdf", PDF)},
        )

        assert files_under(uploads) == []
    page = html.unescape(response.content.decode())
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 60
    assert "Le fichier que vous envoyiez n'a pas été enregistré" in page
    assert "Réessayez plus tard" in page
    assert not Document.objects.filter(candidature=dossier).exists()
    assert files_under(private_root) == []


def test_a_receipt_is_still_given_when_its_pdf_cannot_be_kept(
    complete_dossier, candidate, settings, tmp_path
):
    receipt = services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    with nearly_full_disk(tmp_path / "plein", free_bytes=4 * 1024) as root:
        use_private_storage(settings, root)

        content = receipt_pdf(receipt.pk)

        assert files_under(root) == []
    assert content.startswith(b"%PDF")
    receipt.refresh_from_db()
    assert not receipt.pdf  # rendered again next time, once the disk has room
