"""The signed agreement's scan and the reports go through the same inspection as the
dossiers' pieces: every hostile kind is refused, with its message, and nothing is stored."""

import html
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from conventions.states import ConventionStatus, ReportKind
from core.inspection import inspect
from tests.hostile import HOSTILE

OFFICE = Path(__file__).resolve().parent.parent / "data" / "office"
PDF_KINDS = [kind for kind, (build, _code) in HOSTILE.items() if build()[0].endswith(".pdf")]


def message_for(name, content, code) -> str:
    with pytest.raises(ValidationError) as refusal:
        inspect(SimpleUploadedFile(name, content), name.rsplit(".", 1)[1], name=name)
    assert refusal.value.code == code
    return refusal.value.messages[0]


def stored(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def sent(convention, instructeur, client_for):
    client = client_for(instructeur)
    client.post(reverse("conventions:transition", args=[convention.pk, "send"]))
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT
    return client


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_a_hostile_pdf_is_refused_as_the_signed_agreement(kind, sent, convention, private_root):
    build, code = HOSTILE[kind]
    name, content = build()
    before = stored(private_root)

    response = sent.post(
        reverse("conventions:sign", args=[convention.pk]),
        {
            "sign-signed_on": timezone.localdate().isoformat(),
            "sign-file": SimpleUploadedFile(name, content),
        },
        follow=True,
    )

    assert message_for(name, content, code) in html.unescape(response.content.decode())
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT and not convention.signed_scan
    assert stored(private_root) == before


def test_a_libreoffice_pdf_is_taken_as_the_signed_agreement(sent, convention):
    sent.post(
        reverse("conventions:sign", args=[convention.pk]),
        {
            "sign-signed_on": timezone.localdate().isoformat(),
            "sign-file": SimpleUploadedFile(
                "convention-signee.pdf", (OFFICE / "bilan-libreoffice.pdf").read_bytes()
            ),
        },
    )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SIGNED


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_file_is_refused_as_a_report(kind, signed, candidate, client_for, private_root):
    build, code = HOSTILE[kind]
    name, content = build()
    report = signed.reports.get(kind=ReportKind.INTERMEDIATE)
    before = stored(private_root)

    response = client_for(candidate).post(
        reverse("conventions:report_upload", args=[signed.pk, report.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )

    assert message_for(name, content, code) in html.unescape(response.content.decode())
    report.refresh_from_db()
    assert not report.file and report.submitted_at is None
    assert stored(private_root) == before


@pytest.mark.parametrize("name", ["bilan-libreoffice.docx", "bilan-libreoffice.odt"])
def test_a_libreoffice_report_is_accepted(name, signed, candidate, client_for):
    report = signed.reports.get(kind=ReportKind.INTERMEDIATE)
    client_for(candidate).post(
        reverse("conventions:report_upload", args=[signed.pk, report.pk]),
        {"file": SimpleUploadedFile(name, (OFFICE / name).read_bytes())},
    )
    report.refresh_from_db()
    assert report.file_name == name
