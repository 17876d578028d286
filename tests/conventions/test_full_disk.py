"""A full disk when the agreement is sent (its PDF is stored) or when the signed agreement
is uploaded: told in French, the agreement stays where it was and nothing half-written is
kept (core/storage.py)."""

import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from conventions import services
from conventions.states import ConventionStatus
from tests.disks import STORAGE_MESSAGE, files_under

DATA = Path(__file__).resolve().parent.parent / "data" / "office"
PDF = (DATA / "bilan-libreoffice.pdf").read_bytes()  # 23 kB, accepted by every check


@pytest.fixture
def sent(convention, instructeur):
    """Sent while the disk had room: its frozen PDF is stored."""
    return services.send_for_signature(convention, by=instructeur)


def test_an_agreement_sent_on_a_full_disk_stays_a_draft(
    convention, instructeur, client_for, full_private_root
):
    response = client_for(instructeur).post(
        reverse("conventions:transition", args=[convention.pk, "send"]), follow=True
    )

    assert STORAGE_MESSAGE in html.unescape(response.content.decode())
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.DRAFT and not convention.document
    assert not convention.status_changes.exists()
    assert files_under(full_private_root) == []


def test_a_signed_agreement_on_a_full_disk_stays_unsigned(
    sent, instructeur, client_for, full_private_root
):
    convention = sent
    client = client_for(instructeur)
    response = client.post(
        reverse("conventions:sign", args=[convention.pk]),
        {
            "sign-signed_on": timezone.localdate().isoformat(),
            "sign-file": SimpleUploadedFile("convention-signee.pdf", PDF),
        },
        follow=True,
    )

    assert STORAGE_MESSAGE in html.unescape(response.content.decode())
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT and not convention.signed_scan
    assert files_under(full_private_root) == []
