"""Uploading the pieces of a draft dossier, through the views: what is accepted is stored
under a random name with its hash; what is refused leaves nothing behind."""

import datetime as dt
import hashlib
import html
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import tests.settings as test_settings
from aap.models import RequiredDocument
from candidatures.models import Document
from demo import modeles
from tests.candidatures.conftest import PDF
from tests.factories import as_draft, dossier_ready_call

XLSX = modeles.budget_xlsx()
DOCX = modeles.funding_request_docx()
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 4000


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def pdf_piece(call):
    return call.required_documents.get(mandatory=True)


@pytest.fixture
def budget_piece(call):
    return call.required_documents.get(multiple=True)


@pytest.fixture
def docx_piece(call):
    with as_draft(call):
        return RequiredDocument.objects.create(
            call=call, position=3, label="Lettre d'engagement", allowed_formats=["docx"]
        )


@pytest.fixture
def logged_in(client, candidate, dossier):
    client.force_login(candidate)
    return client


def upload(client, dossier, piece, name, content):
    return client.post(
        reverse("candidatures:upload", args=[dossier.pk, piece.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )


def raw_upload(client, dossier, piece, filename: str, content: bytes):
    """A multipart body written by hand, so that the file name reaches the server as is
    (the test client would drop the directories of a name itself)."""
    boundary = "----limite-de-test"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        reverse("candidatures:upload", args=[dossier.pk, piece.pk]),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow=True,
    )


# --- Accepted files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("piece_fixture", "name", "content", "file_format"),
    [
        ("pdf_piece", "dossier.pdf", PDF, "pdf"),
        ("docx_piece", "engagement.docx", DOCX, "docx"),
        ("budget_piece", "budget.xlsx", XLSX, "xlsx"),
    ],
)
def test_a_real_file_is_stored_with_its_sha256_and_size(
    request, logged_in, dossier, candidate, private_root, piece_fixture, name, content, file_format
):
    piece = request.getfixturevalue(piece_fixture)
    response = upload(logged_in, dossier, piece, name, content)
    assert response.redirect_chain[-1][0] == (
        f"{reverse('candidatures:documents', args=[dossier.pk])}#piece-{piece.pk}"
    )
    assert f"« {name} » est enregistré." in page_text(response)
    document = Document.objects.get()
    assert document.required_document == piece
    assert document.original_name == name
    assert document.file_format == file_format
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.uploaded_by == candidate
    assert stored_files(private_root) == [private_root / document.file.name]
    assert (private_root / document.file.name).read_bytes() == content


def test_the_file_is_stored_under_a_random_name(logged_in, dossier, pdf_piece, private_root):
    upload(logged_in, dossier, pdf_piece, "Rapport confidentiel.pdf", PDF)
    document = Document.objects.get()
    assert re.fullmatch(rf"dossiers/{dossier.call_id}/[0-9a-f]{{32}}", document.file.name)
    assert "Rapport" not in str(stored_files(private_root)[0])


@pytest.mark.parametrize(
    ("sent_name", "kept_name"),
    [
        pytest.param("../../etc/cron.d/dossier.pdf", "dossier.pdf", id="slashes"),
        pytest.param(
            "C:\\Users\\camille\\..\\Dossier final.pdf", "Dossier final.pdf", id="windows"
        ),
        pytest.param("Dossier\x07\x1b final.pdf", "Dossier final.pdf", id="control-characters"),
        pytest.param("rapport\u202efdp.pdf", "rapportfdp.pdf", id="right-to-left-override"),
        pytest.param("..dossier<2024>.pdf", "dossier_2024.pdf", id="dots-and-reserved"),
    ],
)
def test_the_file_name_is_cleaned(
    logged_in, dossier, pdf_piece, private_root, sent_name, kept_name
):
    response = raw_upload(logged_in, dossier, pdf_piece, sent_name, PDF)
    document = Document.objects.get()
    assert document.original_name == kept_name
    assert f"« {kept_name} » est enregistré." in page_text(response)
    stored = stored_files(private_root)
    assert stored == [private_root / document.file.name]
    assert all(private_root in path.parents for path in stored)


# --- Refusals: a French message, and nothing stored ----------------------------------------------


def assert_refused(response, message, private_root):
    page = page_text(response)
    assert message in page, page[page.find('class="messages"') :][:500]
    assert not Document.objects.exists()
    assert stored_files(private_root) == []


def test_a_renamed_executable_is_refused(logged_in, dossier, pdf_piece, private_root):
    response = upload(logged_in, dossier, pdf_piece, "cv.pdf", EXECUTABLE)
    assert_refused(
        response,
        "Le contenu du fichier « cv.pdf » ne correspond pas à son extension (le fichier est "
        "peut-être endommagé ou renommé). Formats acceptés : PDF.",
        private_root,
    )


def test_a_file_over_the_piece_limit_is_skipped_while_it_streams(
    logged_in, dossier, pdf_piece, private_root
):
    pdf_piece.max_size_mb = 1
    with as_draft(pdf_piece.call):
        pdf_piece.save()
    big = PDF + b"0" * (1536 * 1024 - len(PDF))
    response = upload(logged_in, dossier, pdf_piece, "gros.pdf", big)
    assert_refused(
        response,
        "Le fichier « gros.pdf » dépasse la taille maximale de 1 Mo : il n'a pas été enregistré.",
        private_root,
    )


def test_an_empty_file_is_refused(logged_in, dossier, pdf_piece, private_root):
    response = upload(logged_in, dossier, pdf_piece, "vide.pdf", b"")
    assert_refused(response, "Le fichier soumis est vide.", private_root)


def test_a_format_the_piece_does_not_take_is_refused(logged_in, dossier, pdf_piece, private_root):
    response = upload(logged_in, dossier, pdf_piece, "budget.xlsx", XLSX)
    assert_refused(
        response,
        "Le format du fichier « budget.xlsx » n'est pas accepté ici. Formats acceptés : PDF.",
        private_root,
    )


def test_a_file_that_would_push_the_dossier_over_its_limit_is_refused(
    logged_in, dossier, call, pdf_piece, private_root
):
    call.max_dossier_size_mb = 1
    call.save()
    with as_draft(call):
        annexes = RequiredDocument.objects.create(
            call=call, position=3, label="Annexes", allowed_formats=["pdf"], multiple=True
        )
    first = PDF + b"0" * (700 * 1024 - len(PDF))
    upload(logged_in, dossier, pdf_piece, "dossier.pdf", first)
    kept = Document.objects.get()
    files_before = stored_files(private_root)
    response = upload(logged_in, dossier, annexes, "annexe.pdf", first)
    assert (
        "Le fichier « annexe.pdf » ferait dépasser la taille maximale du dossier (1 Mo au total) : "
        "il n'a pas été enregistré." in page_text(response)
    )
    assert list(Document.objects.all()) == [kept]
    assert stored_files(private_root) == files_before


def test_replacing_a_file_counts_the_new_one_only_against_the_dossier_limit(
    logged_in, dossier, call, pdf_piece
):
    call.max_dossier_size_mb = 1
    call.save()
    content = PDF + b"0" * (700 * 1024 - len(PDF))
    upload(logged_in, dossier, pdf_piece, "dossier.pdf", content)
    response = upload(logged_in, dossier, pdf_piece, "dossier-v2.pdf", content)
    assert "« dossier-v2.pdf » est enregistré." in page_text(response)
    assert Document.objects.get().original_name == "dossier-v2.pdf"


def test_sending_without_a_file_is_refused(logged_in, dossier, pdf_piece, private_root):
    response = logged_in.post(
        reverse("candidatures:upload", args=[dossier.pk, pdf_piece.pk]), {}, follow=True
    )
    assert_refused(response, "Choisissez un fichier à envoyer.", private_root)


def test_an_upload_after_the_deadline_is_refused(
    candidate, client, dossier, pdf_piece, private_root
):
    with time_machine.travel(dossier.call.deadline + dt.timedelta(seconds=1)):
        client.force_login(candidate)
        response = upload(client, dossier, pdf_piece, "dossier.pdf", PDF)
    assert_refused(
        response,
        "La date limite de réception des dossiers est passée : le dossier ne peut plus être "
        "modifié.",
        private_root,
    )


def test_a_piece_of_another_call_is_not_found(logged_in, dossier, private_root):
    foreign = dossier_ready_call().required_documents.get(mandatory=True)
    response = logged_in.post(
        reverse("candidatures:upload", args=[dossier.pk, foreign.pk]),
        {"file": SimpleUploadedFile("dossier.pdf", PDF)},
    )
    assert response.status_code == 404
    assert not Document.objects.exists()
    assert stored_files(private_root) == []


# --- Replacing, adding, deleting ------------------------------------------------------------------


def test_a_second_upload_replaces_the_file_of_a_single_file_piece(
    logged_in, dossier, pdf_piece, private_root, django_capture_on_commit_callbacks
):
    upload(logged_in, dossier, pdf_piece, "premier.pdf", PDF)
    first = Document.objects.get()
    first_path = private_root / first.file.name
    second_content = modeles.sample_pdf("Dossier corrigé", ["Version 2"])
    # The old file goes once the replacement is committed.
    with django_capture_on_commit_callbacks(execute=True):
        upload(logged_in, dossier, pdf_piece, "second.pdf", second_content)
    second = Document.objects.get()
    assert second.original_name == "second.pdf"
    assert second.sha256 == hashlib.sha256(second_content).hexdigest()
    assert not first_path.exists()
    assert stored_files(private_root) == [private_root / second.file.name]


def test_a_multiple_piece_keeps_every_file(logged_in, dossier, budget_piece, private_root):
    upload(logged_in, dossier, budget_piece, "budget-2025.xlsx", XLSX)
    upload(logged_in, dossier, budget_piece, "budget-2026.xlsx", XLSX)
    names = sorted(Document.objects.values_list("original_name", flat=True))
    assert names == ["budget-2025.xlsx", "budget-2026.xlsx"]
    assert len(stored_files(private_root)) == 2


def test_a_file_of_a_draft_is_deleted_with_its_stored_copy(
    logged_in, dossier, budget_piece, private_root, django_capture_on_commit_callbacks
):
    upload(logged_in, dossier, budget_piece, "budget.xlsx", XLSX)
    document = Document.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            reverse("candidatures:delete_document", args=[dossier.pk, document.pk]), follow=True
        )
    assert "« budget.xlsx » est supprimé." in page_text(response)
    assert not Document.objects.exists()
    assert stored_files(private_root) == []


def test_a_file_is_not_deleted_after_the_deadline(
    candidate, client, dossier, budget_piece, private_root
):
    client.force_login(candidate)
    upload(client, dossier, budget_piece, "budget.xlsx", XLSX)
    document = Document.objects.get()
    with time_machine.travel(dossier.call.deadline + dt.timedelta(seconds=1)):
        client.force_login(candidate)
        response = client.post(
            reverse("candidatures:delete_document", args=[dossier.pk, document.pk]), follow=True
        )
    assert (
        "La date limite de réception des dossiers est passée : le dossier ne peut plus être "
        "modifié." in page_text(response)
    )
    assert Document.objects.filter(pk=document.pk).exists()
    assert stored_files(private_root) == [private_root / document.file.name]


# --- Downloads ------------------------------------------------------------------------------------


def test_a_download_is_an_attachment_with_the_original_name(logged_in, dossier, pdf_piece):
    upload(logged_in, dossier, pdf_piece, "Dossier final.pdf", PDF)
    document = Document.objects.get()
    response = logged_in.get(reverse("candidatures:download", args=[dossier.pk, document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Dossier final.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF


def test_a_non_ascii_name_is_offered_in_its_encoded_form(logged_in, dossier, budget_piece):
    upload(logged_in, dossier, budget_piece, "Budget prévisionnel.xlsx", XLSX)
    document = Document.objects.get()
    response = logged_in.get(reverse("candidatures:download", args=[dossier.pk, document.pk]))
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Budget%20pr%C3%A9visionnel.xlsx"
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_stored_files_have_no_public_address(logged_in, dossier, pdf_piece, private_root):
    upload(logged_in, dossier, pdf_piece, "dossier.pdf", PDF)
    document = Document.objects.get()
    # The configured storage (before this module's override) gives no base URL…
    assert test_settings.STORAGES["default"]["OPTIONS"]["base_url"] is None
    # …and its folder is apart from the static files.
    private = Path(test_settings.PRIVATE_MEDIA_ROOT).resolve()
    static_roots = [Path(django_settings.STATIC_ROOT).resolve()] + [
        Path(folder).resolve() for folder in django_settings.STATICFILES_DIRS
    ]
    for static in static_roots:
        assert static not in private.parents and private != static
        assert private not in static.parents
    # Whatever ``.url`` gives, nothing answers there: only the checked view serves files.
    try:
        url = document.file.url
    except ValueError:
        url = None
    candidates = [f"{django_settings.STATIC_URL}{document.file.name}", f"/{document.file.name}"]
    if url is not None:
        candidates.append(url if url.startswith("/") else f"/{url}")
    for address in candidates:
        response = logged_in.get(address)
        assert response.status_code == 404, address
        assert PDF not in b"".join(getattr(response, "streaming_content", [response.content]))
