"""Uploads pass through a real clamd (tests/clamd.py): infected files are refused and
nothing is stored."""

import contextlib
import html
import io
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aap.states import CallStatus
from candidatures import services
from candidatures.models import Document
from core import antivirus
from core.exceptions import DomainError
from demo import modeles
from tests.candidatures.conftest import PDF
from tests.clamd import BODY_SIGNATURE, EICAR, STREAM_MAX_LENGTH
from tests.factories import CallFactory, as_draft


@pytest.fixture
def clamav(settings, clamd_socket):
    settings.CLAMD_URL = f"unix://{clamd_socket}"
    settings.CLAMD_TIMEOUT = 10
    return clamd_socket


@pytest.fixture
def folders(settings, tmp_path, private_root):
    """Private storage and the temporary upload folder of this test only."""
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    return private_root, spool


def files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


@pytest.fixture
def piece(call):
    """The dossier's mandatory piece, accepting PDF and Word files."""
    required = call.required_documents.get(mandatory=True)
    required.allowed_formats = ["pdf", "docx"]
    with as_draft(call):
        required.save()
    return required


@pytest.fixture
def upload(client, candidate, dossier, piece):
    """``upload(name, content)``: the candidate sends a file; the page after the redirect."""
    client.force_login(candidate)
    url = reverse("candidatures:upload", args=[dossier.pk, piece.pk])

    def send(name, content):
        response = client.post(url, {"file": SimpleUploadedFile(name, content)}, follow=True)
        assert response.status_code == 200
        return html.unescape(response.content.decode())

    return send


def infected_pdf() -> bytes:
    return modeles.sample_pdf("Curriculum vitae", ["Camille Exemple"]) + b"\n" + EICAR + b"\n"


def infected_docx() -> bytes:
    buffer = io.BytesIO(modeles.funding_request_docx())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("word/media/annexe.bin", EICAR)
    return buffer.getvalue()


def clean_docx() -> bytes:
    return modeles.funding_request_docx()


# --- A real clamd ---------------------------------------------------------------------------


def test_a_clean_pdf_uploaded_by_the_candidate_is_stored(
    clamav, folders, upload, dossier, monkeypatch
):
    private, spool = folders
    scanned = []
    real_scan = antivirus.scan

    def spy(handle, *, name):
        # The view spools every upload to disk: that file is what clamd must read.
        scanned.append(Path(handle.temporary_file_path()).parent)
        real_scan(handle, name=name)

    monkeypatch.setattr(antivirus, "scan", spy)
    page = upload("dossier.pdf", PDF)
    assert "« dossier.pdf » est enregistré." in page
    assert scanned == [spool]
    document = Document.objects.get(candidature=dossier)
    assert document.file.name.startswith("dossiers/")
    assert (private / document.file.name).read_bytes() == PDF
    assert files_in(spool) == []


def test_a_clean_docx_uploaded_by_the_candidate_is_stored(clamav, folders, upload, dossier):
    upload("demande.docx", clean_docx())
    assert Document.objects.get(candidature=dossier).file_format == "docx"


@pytest.mark.parametrize(
    ("name", "content", "signature"),
    [
        ("cv.pdf", infected_pdf(), BODY_SIGNATURE),
        ("demande.docx", infected_docx(), None),
    ],
    ids=["pdf-with-eicar-appended", "docx-with-eicar-member"],
)
def test_an_infected_upload_is_refused_and_nothing_is_stored(
    clamav, folders, upload, name, content, signature
):
    private, spool = folders
    page = upload(name, content)
    assert f"Le fichier « {name} » contient un virus (" in page
    if signature:
        assert f"contient un virus ({signature}" in page
    assert "n'a pas été enregistré" in page
    assert not Document.objects.exists()
    assert files_in(private / "dossiers") == []
    assert files_in(spool) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [("cv.pdf", infected_pdf()), ("cv.docx", infected_docx())],
    ids=["pdf-with-eicar", "docx-with-eicar"],
)
def test_the_service_refuses_an_infected_file(
    clamav, folders, dossier, candidate, piece, name, content
):
    uploaded = SimpleUploadedFile(name, content)
    with pytest.raises(DomainError, match=r"contient un virus \("):
        services.add_document(dossier, piece, by=candidate, uploaded=uploaded)
    assert not Document.objects.exists()
    assert files_in(folders[0]) == []


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("Heuristics.Encrypted.Zip", "il est chiffré ou protégé par un mot de passe"),
        ("Heuristics.Encrypted.PDF", "il est chiffré ou protégé par un mot de passe"),
        ("Heuristics.Limits.Exceeded.MaxFiles", "il est trop complexe pour être analysé"),
        ("Heuristics.Limits.Exceeded.MaxRecursion", "il est trop complexe pour être analysé"),
        ("Heuristics.OLE2.ContainsMacros", "il contient des macros"),
    ],
)
def test_what_clamd_refuses_by_heuristics_is_not_called_a_virus(signature, reason):
    """clamd names with ``Heuristics.`` what it will not vouch for (the options of
    deploy/clamav/clamd.conf; tests/test_deployment.py runs them): the person reads why,
    and what to do."""
    refusal = antivirus.found(signature, name="budget.xlsx")
    (message,) = refusal.messages
    assert message.startswith(
        f"Le fichier « budget.xlsx » a été refusé par l'analyse antivirus : {reason}"
    )
    assert "n'a pas été enregistré" in message and "puis déposez-le à nouveau" in message
    assert "virus (" not in message and signature not in message
    assert refusal.code == "antivirus_refused"


def test_another_heuristic_is_named_but_not_called_a_virus():
    refusal = antivirus.found("Heuristics.Phishing.Email.SpoofedDomain", name="cv.pdf")
    assert refusal.messages == [
        "Le fichier « cv.pdf » a été refusé par l'analyse antivirus "
        "(Heuristics.Phishing.Email.SpoofedDomain) : il n'a pas été enregistré."
    ]


def test_a_virus_is_called_a_virus():
    refusal = antivirus.found("Win.Test.EICAR_HDB-1", name="cv.pdf")
    assert refusal.messages == [
        "Le fichier « cv.pdf » contient un virus (Win.Test.EICAR_HDB-1) : il a été refusé et "
        "n'a pas été enregistré."
    ]
    assert refusal.code == "infected"


def test_the_file_is_stored_whole_after_the_scan(clamav, folders, dossier, candidate, piece):
    """The scan reads the file to its end; what is stored must still be the whole file."""
    uploaded = SimpleUploadedFile("dossier.pdf", PDF)
    document = services.add_document(dossier, piece, by=candidate, uploaded=uploaded)
    assert (folders[0] / document.file.name).read_bytes() == PDF


def test_a_file_larger_than_clamd_accepts_is_refused_not_stored(clamav, folders, upload):
    """clamd closes the stream past its StreamMaxLength: never stored unscanned, no error 500."""
    private, spool = folders
    big = PDF + b"\n%" + b"0" * (2 * STREAM_MAX_LENGTH) + b"\n"
    page = upload("gros.pdf", big)
    assert "n'a pas pu être analysé par l'antivirus" in page
    assert not Document.objects.exists()
    assert files_in(private) == []
    assert files_in(spool) == []


def test_an_infected_template_is_refused_in_the_back_office(
    clamav, folders, client_for, instructeur
):
    draft = CallFactory(status=CallStatus.DRAFT)
    url = reverse("aap:backoffice_documents", args=[draft.pk])
    row = {
        "position": 1,
        "label": "Dossier de demande de financement",
        "allowed_formats": ["docx", "pdf"],
        "max_size_mb": 10,
        "mandatory": "on",
    }
    management = {"TOTAL_FORMS": 1, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}
    data = {f"items-{key}": value for key, value in management.items()}
    data.update({f"items-0-{key}": value for key, value in row.items()})
    data["items-0-template"] = SimpleUploadedFile("demande de financement.docx", infected_docx())
    response = client_for(instructeur).post(url, data)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Le fichier « demande de financement.docx » contient un virus (" in page
    assert not draft.required_documents.exists()
    assert files_in(folders[0]) == []
    assert files_in(folders[1]) == []


# --- clamd configured but not answering: fail closed ----------------------------------------


@pytest.fixture
def stale_socket(tmp_path):
    """A socket file left by a clamd that is gone: connecting is refused."""
    path = tmp_path / "stale.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()
    return path


@pytest.mark.parametrize("kind", ["missing", "stale"])
def test_an_upload_is_refused_quickly_when_clamd_does_not_answer(
    settings, folders, upload, tmp_path, stale_socket, kind
):
    path = tmp_path / "nothing-here.sock" if kind == "missing" else stale_socket
    settings.CLAMD_URL = f"unix://{path}"
    started = time.monotonic()
    page = upload("dossier.pdf", PDF)
    assert time.monotonic() - started < 5
    assert "n'a pas pu être analysé par l'antivirus, indisponible pour le moment" in page
    assert not Document.objects.exists()
    assert files_in(folders[0]) == []
    assert files_in(folders[1]) == []


@pytest.fixture
def mute_clamd(tmp_path):
    """A socket that accepts connections and never reads nor answers (a hung clamd)."""
    path = tmp_path / "mute.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(5)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.parametrize("size", [0, 2 * STREAM_MAX_LENGTH], ids=["small", "large"])
def test_a_hung_clamd_times_out_into_a_refusal(settings, folders, upload, mute_clamd, size):
    """A small file times out waiting for the answer, a large one while being sent."""
    settings.CLAMD_URL = f"unix://{mute_clamd}"
    settings.CLAMD_TIMEOUT = 1
    content = PDF + (b"\n%" + b"0" * size + b"\n" if size else b"")
    started = time.monotonic()
    page = upload("dossier.pdf", content)
    assert time.monotonic() - started < 5
    assert "indisponible pour le moment" in page
    assert not Document.objects.exists()
    assert files_in(folders[0]) == []


# --- No antivirus configured ----------------------------------------------------------------


def test_without_clamd_url_no_scan_happens(settings, folders, upload, dossier, monkeypatch):
    settings.CLAMD_URL = ""

    def no_client():
        raise AssertionError("clamd must not be contacted when CLAMD_URL is empty")

    monkeypatch.setattr(antivirus, "_client", no_client)
    page = upload("dossier.pdf", PDF)
    assert "« dossier.pdf » est enregistré." in page
    assert (folders[0] / Document.objects.get(candidature=dossier).file.name).read_bytes() == PDF
