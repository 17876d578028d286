"""A call's archive: asked for once at a time, built by a Celery task whose progress the
call's page shows, then downloaded from storage; a failure recorded and shown in French,
and asked again. The Service IVE only."""

import csv
import datetime as dt
import hashlib
import io
import os
import zipfile

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from archives import services
from archives.models import CallArchive
from archives.services import ArchiveBusy
from archives.states import ArchiveStatus
from candidatures.models import Candidature
from candidatures.states import CandidatureStatus
from tests import test_celery_worker as celery_worker
from tests.archives.conftest import submitted
from tests.celery_utils import eager
from tests.disks import nearly_full_disk
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

# Fixtures bound here, not imported (an argument named like an import trips ruff's F811).
mailbox = celery_worker.mailbox
broker = celery_worker.broker
worker = celery_worker.worker

NAMES = ("Communauté de communes du Trièves", "GIP Sud Isère")
HTMX = {"HX-Request": "true"}


def two_dossiers():
    """A call with two dossiers submitted on time, the deadline passed."""
    call = dossier_ready_call()
    dossiers = []
    for index, name in enumerate(NAMES):
        member = UserFactory(roles=["candidat"])
        organisation = OrganisationFactory(name=name, members=[member])
        dossiers.append(submitted(call, organisation, member, close_call=index == len(NAMES) - 1))
    call.refresh_from_db()
    return call, dossiers


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def page(client, call) -> tuple[object, str]:
    response = client.get(reverse("archives:call", args=[call.pk]))
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_the_call_archive_with_its_progress_then_it_is_downloaded(
    instructeur, client_for, private_root, worker
):
    with eager(True):
        call, dossiers = two_dossiers()
    client = client_for(instructeur)

    response = client.post(reverse("archives:request", args=[call.pk]), follow=True)
    assert "elle se construit en arrière-plan" in response.content.decode()
    archive = CallArchive.objects.get(call=call)
    assert (archive.status, archive.requested_by, archive.dossiers_total) == (
        ArchiveStatus.QUEUED,
        instructeur,
        2,
    )
    # Waiting for the worker: the page shows the progress, which htmx asks for again every
    # 5 s and swaps in place (« Actualiser » without JavaScript).
    response, html = page(client, call)
    assert "0 dossier(s) archivé(s) sur 2" in html and "Actualiser" in html
    assert 'hx-trigger="every 5s"' in html and "vendor/htmx/htmx.min.js" in html
    fragment = client.get(reverse("archives:call", args=[call.pk]), headers=HTMX)
    assert fragment.status_code == 200 and "HX-Request" in fragment["Vary"]
    fragment = fragment.content.decode()
    assert fragment.startswith('<section class="card mb-4" id="archive-en-cours"')
    assert "0 dossier(s) archivé(s) sur 2" in fragment and "<html" not in fragment
    # A second click while it waits starts nothing.
    response = client.post(reverse("archives:request", args=[call.pk]), follow=True)
    assert "déjà en préparation" in response.content.decode()
    assert CallArchive.objects.filter(call=call).count() == 1

    worker.env["PRIVATE_MEDIA_ROOT"] = str(private_root)  # the same private storage
    worker.start()
    built = celery_worker.wait_until(
        lambda: CallArchive.objects.get(pk=archive.pk).status == ArchiveStatus.READY, seconds=120
    )
    archive.refresh_from_db()
    assert built, f"{archive.status}: {archive.error}\n{worker.log.read_text()[-6000:]}"
    assert (archive.dossiers_done, archive.dossiers_total, archive.error) == (2, 2, "")
    # Built: htmx's next request reloads the whole page, which offers the download.
    fragment = client.get(reverse("archives:call", args=[call.pk]), headers=HTMX)
    assert fragment["HX-Refresh"] == "true" and fragment.content == b""
    response, html = page(client, call)
    assert "hx-trigger" not in html and "htmx.min.js" not in html
    assert "Dernière archive prête" in html and archive.sha256 in html
    download_url = reverse("archives:download", args=[archive.pk])
    assert download_url in html

    response = client.get(download_url)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content)
    assert len(content) == archive.size
    assert hashlib.sha256(content).hexdigest() == archive.sha256
    zipped = zipfile.ZipFile(io.BytesIO(content))
    assert zipped.testzip() is None
    names = zipped.namelist()
    # Each dossier is a folder with its files and its own manifest; one manifest for all.
    folders = sorted({name.split("/")[0] for name in names if "/" in name})
    assert len(folders) == 2  # no committee record frozen for this call
    for dossier in dossiers:
        [folder] = [f for f in folders if f.endswith(f"-{dossier.pk}")]
        assert dossier.organisation.name in folder
        inner = read_csv(zipped, f"{folder}/manifest.csv")
        assert "pieces/Dossier de demande de financement/dossier.pdf" in {
            row["Chemin"] for row in inner
        }
        for row in inner:
            assert (
                hashlib.sha256(zipped.read(f"{folder}/{row['Chemin']}")).hexdigest()
                == row["SHA-256"]
            )
    manifest = read_csv(zipped, "manifest.csv")
    assert [row["Chemin"] for row in manifest] == names[:-1]
    for row in manifest:
        assert hashlib.sha256(zipped.read(row["Chemin"])).hexdigest() == row["SHA-256"]
        assert row["Concordance"] in ("", "oui")
    assert {row["Structure"] for row in read_csv(zipped, "dossiers.csv")} == set(NAMES)
    assert "Traceback" not in worker.log.read_text()


def test_a_second_request_while_one_is_building_is_refused_everywhere(db, instructeur, client_for):
    call = dossier_ready_call()
    first = services.request_call_archive(call, by=instructeur)
    with pytest.raises(ArchiveBusy, match="déjà en préparation"):
        services.request_call_archive(call, by=instructeur)
    CallArchive.objects.filter(pk=first.pk).update(status=ArchiveStatus.BUILDING)
    response = client_for(instructeur).post(
        reverse("archives:request", args=[call.pk]), follow=True
    )
    assert "déjà en préparation" in response.content.decode()
    # The shell or the admin meet the database's rule.
    with pytest.raises(IntegrityError), transaction.atomic():
        CallArchive.objects.create(call=call, requested_by=instructeur)
    assert list(CallArchive.objects.filter(call=call)) == [first]


def test_a_build_interrupted_for_long_no_longer_holds_the_call(db, instructeur):
    call = dossier_ready_call()
    stuck = services.request_call_archive(call, by=instructeur)
    CallArchive.objects.filter(pk=stuck.pk).update(
        status=ArchiveStatus.BUILDING,
        progressed_at=timezone.now() - services.STALE_AFTER - dt.timedelta(seconds=1),
    )
    again = services.request_call_archive(call, by=instructeur)
    stuck.refresh_from_db()
    assert (stuck.status, again.status) == (ArchiveStatus.FAILED, ArchiveStatus.QUEUED)
    assert stuck.error == "Construction interrompue (le traitement s'est arrêté)."
    # The old task, if it ever runs, claims nothing.
    assert services.build_call_archive(stuck.pk) is None


def build(call, by, capture):
    """Ask for the archive; its task runs in this process after commit."""
    with capture(execute=True):
        archive = services.request_call_archive(call, by=by)
    archive.refresh_from_db()
    return archive


def test_a_missing_stored_file_fails_the_build_shown_in_french_then_a_retry_succeeds(
    db, instructeur, client_for, django_capture_on_commit_callbacks
):
    call, [dossier, _other] = two_dossiers()
    document = dossier.documents.get(required_document__label__startswith="Dossier")
    path = document.file.path
    with open(path, "rb") as handle:
        kept = handle.read()
    os.unlink(path)  # gone from storage behind the platform's back

    failed = build(call, instructeur, django_capture_on_commit_callbacks)
    assert failed.status == ArchiveStatus.FAILED and not failed.file
    folder = services.folder_name(dossier)
    assert failed.error == (
        f"Le fichier « {folder}/pieces/Dossier de demande de financement/dossier.pdf » "
        "(Pièce « Dossier de demande de financement » : dossier.pdf, déposée le 6 décembre "
        "2026 à 10h00) est introuvable dans l'espace de stockage de la plateforme : l'archive "
        "n'a pas pu être construite. Prévenez l'administrateur."
    )
    _response, html = page(client_for(instructeur), call)
    assert "Échec" in html and "dossier.pdf » (Pièce" in html
    assert reverse("archives:request", args=[call.pk]) in html  # asked again from the page
    response = client_for(instructeur).get(reverse("archives:download", args=[failed.pk]))
    assert response.status_code == 404

    with open(path, "wb") as handle:
        handle.write(kept)
    ready = build(call, instructeur, django_capture_on_commit_callbacks)
    assert ready.status == ArchiveStatus.READY and ready.dossiers_done == 2
    # A newer archive replaces the older one, whose file goes.
    newer = build(call, instructeur, django_capture_on_commit_callbacks)
    ready.refresh_from_db()
    assert (ready.status, ready.file.name) == (ArchiveStatus.REPLACED, "")
    assert newer.status == ArchiveStatus.READY and newer.file.storage.exists(newer.file.name)


def test_archives_are_discarded_when_their_dossiers_data_are_eliminated(
    db, instructeur, client_for, django_capture_on_commit_callbacks
):
    """A call's archive holds copies of its dossiers' files: the elimination discards it."""
    call, _dossiers = two_dossiers()
    archive = build(call, instructeur, django_capture_on_commit_callbacks)
    name, storage = archive.file.name, archive.file.storage
    assert storage.exists(name)
    note = "Données des dossiers éliminées (bordereau BE-2033-1)."
    with django_capture_on_commit_callbacks(execute=True):
        assert services.discard_call_archives(call.pk, note=note) == 1
    archive.refresh_from_db()
    assert (archive.status, archive.file.name, archive.error) == (ArchiveStatus.DISCARDED, "", note)
    assert not storage.exists(name)
    client = client_for(instructeur)
    assert client.get(reverse("archives:download", args=[archive.pk])).status_code == 404
    _response, html = page(client, call)
    assert "Supprimée (données éliminées)" in html and note in html


def test_a_full_disk_fails_the_build_and_keeps_nothing(
    db, instructeur, client_for, settings, tmp_path, django_capture_on_commit_callbacks
):
    call, _dossiers = two_dossiers()
    with nearly_full_disk(tmp_path / "temporaire", free_bytes=8 * 1024) as full:
        settings.FILE_UPLOAD_TEMP_DIR = str(full)
        archive = build(call, instructeur, django_capture_on_commit_callbacks)
        assert [path.name for path in full.iterdir()] == ["remplissage"]
    assert archive.status == ArchiveStatus.FAILED and not archive.file
    assert "l'espace de stockage de la plateforme est plein ou indisponible" in archive.error
    _response, html = page(client_for(instructeur), call)
    assert "est plein ou indisponible" in html


ACCESS = {
    "anonymous": 302,  # to the login page
    "candidate": 403,
    "evaluator": 403,
    "ddets_reader": 403,
    "instructeur": 200,
    "admin_user": 200,
}


def test_only_the_service_ive_reaches_a_call_archive(
    request, db, instructeur, client_for, django_capture_on_commit_callbacks
):
    call, _dossiers = two_dossiers()
    archive = build(call, instructeur, django_capture_on_commit_callbacks)
    assert archive.status == ArchiveStatus.READY
    urls = [
        reverse("archives:call", args=[call.pk]),
        reverse("archives:download", args=[archive.pk]),
    ]
    for persona, expected in ACCESS.items():
        user = None if persona == "anonymous" else request.getfixturevalue(persona)
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == expected, (persona, url)
            if expected != 200:
                assert not getattr(response, "streaming", False)
                assert archive.sha256 not in response.content.decode()
        response = client.post(reverse("archives:request", args=[call.pk]))
        if expected == 200:
            assert response.status_code == 302
            # Granted: a request waits for the task; removed so that the next persona may ask.
            CallArchive.objects.filter(call=call, status=ArchiveStatus.QUEUED).delete()
        else:
            assert response.status_code == expected, persona
        assert list(CallArchive.objects.filter(call=call)) == [archive]


def test_unknown_calls_and_archives_are_not_found(db, instructeur, client_for):
    client = client_for(instructeur)
    assert client.get(reverse("archives:call", args=[999_999])).status_code == 404
    assert client.get(reverse("archives:download", args=[999_999])).status_code == 404
    assert client.post(reverse("archives:request", args=[999_999])).status_code == 404


def test_the_archives_page_runs_as_many_queries_for_many_dossiers_and_requests(
    db, instructeur, client_for
):
    def add(call, count):
        for _index in range(count):
            Candidature.objects.create(
                call=call,
                organisation=OrganisationFactory(),
                status=CandidatureStatus.SUBMITTED,
                submitted_at=timezone.now(),
            )
            CallArchive.objects.create(
                call=call,
                requested_by=UserFactory(roles=["instructeur"]),
                status=ArchiveStatus.FAILED,
                error="Échec d'essai.",
            )

    small, large = dossier_ready_call(), dossier_ready_call()
    add(small, 1)
    add(large, 8)
    client = client_for(instructeur)
    client.get(reverse("archives:call", args=[small.pk]))  # the session and caches warmed
    counts = []
    for call in (small, large):
        with CaptureQueriesContext(connection) as queries:
            page(client, call)
        counts.append(len(queries))
    assert counts[0] == counts[1]
