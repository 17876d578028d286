"""What a file may carry: every hostile kind is refused by the real upload view of a
dossier, with its message, and nothing is stored; real files made by LibreOffice and
WeasyPrint, with tables and images, are accepted (core/inspection.py)."""

import html
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidatures.models import Document
from core.inspection import inspect
from core.pdf import render_pdf
from tests.factories import as_draft
from tests.hostile import HOSTILE

OFFICE = Path(__file__).resolve().parent.parent / "data" / "office"
VALID = [
    "bilan-libreoffice.pdf",
    "bilan-libreoffice.docx",
    "bilan-libreoffice.odt",
    "budget-libreoffice.xlsx",
    "budget-libreoffice.ods",
]


@pytest.fixture
def any_piece(call):
    """A piece taking every format the platform knows."""
    piece = call.required_documents.get(mandatory=True)
    piece.allowed_formats = ["pdf", "docx", "odt", "xlsx", "ods"]
    with as_draft(call):
        piece.save()
    return piece


def upload(client, dossier, piece, name, content):
    return client.post(
        reverse("candidatures:upload", args=[dossier.pk, piece.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )


def stored(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def expected_message(name, content, code) -> str:
    """The French message the inspection gives for this file, checked to be ``code``'s."""
    with pytest.raises(ValidationError) as refusal:
        inspect(SimpleUploadedFile(name, content), _format(name), name=name)
    assert refusal.value.code == code
    return refusal.value.messages[0]


def _format(name):
    return name.rsplit(".", 1)[1]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_file_is_refused_by_the_dossier_upload_and_nothing_is_stored(
    kind, client, candidate, dossier, any_piece, private_root
):
    build, code = HOSTILE[kind]
    name, content = build()
    message = expected_message(name, content, code)
    client.force_login(candidate)

    response = upload(client, dossier, any_piece, name, content)

    assert message in html.unescape(response.content.decode())
    assert not Document.objects.filter(candidature=dossier).exists()
    assert stored(private_root) == []


@pytest.mark.parametrize("name", VALID)
def test_real_office_files_with_tables_and_images_are_accepted(
    name, client, candidate, dossier, any_piece, private_root
):
    client.force_login(candidate)

    response = upload(client, dossier, any_piece, name, (OFFICE / name).read_bytes())

    assert f"« {name} » est enregistré." in html.unescape(response.content.decode())
    assert Document.objects.get(candidature=dossier).original_name == name


def test_a_weasyprint_pdf_with_a_table_and_an_image_is_accepted(
    client, candidate, dossier, any_piece, private_root
):
    """The platform's own PDFs (a receipt, a letter) go back through the upload checks."""
    pdf = render_pdf(
        "candidatures/pdf/receipt.html",
        {
            "receipt": None,
            "manifest": {
                "organisation": {"name": "EPCI", "kind": "EPCI", "siret": "0"},
                "call": {"reference": "AAP", "title": "Appel"},
                "lots": ["Nord"],
                "documents": [{"piece": "Dossier", "name": "a.pdf", "size": 1, "sha256": "0"}],
            },
            "submitted_at": "17 septembre 2024 à 16h59 et 59 s",
            "deadline": "17 septembre 2024 à 17h00",
            "verification_url": "https://aap.isere.fr/r/x/",
            "qr": "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9z"
            "dmciIHdpZHRoPSIxMCIgaGVpZ2h0PSIxMCI+PHJlY3Qgd2lkdGg9IjEwIiBoZWlnaHQ9IjEwIi8+PC9z"
            "dmc+",
        },
    )
    client.force_login(candidate)

    response = upload(client, dossier, any_piece, "accuse.pdf", pdf)

    assert "« accuse.pdf » est enregistré." in html.unescape(response.content.decode())
