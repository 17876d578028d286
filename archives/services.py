"""A dossier's archive, streamed to the response, and a call's archive, built by a task
into private storage and then offered for download.

Both are ZIPs written as they are read (``archives.zipstream``): a stored file is read in
chunks and goes out at once, a generated PDF is made when the stream reaches it, and no
archive is ever held whole in memory. A call's archive holds each dossier's archive as a
folder (the same files and its own ``manifest.csv``), the committee records once at its
root, and a ``manifest.csv`` of every file: one ZIP that any tool opens and searches,
rather than ZIPs inside a ZIP that must be opened one by one, and whose hashes the call's
manifest could not list.
"""

import datetime as dt
import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.models import Call
from archives import rules
from archives.dossier import (
    committee_entry,
    dossier_entries,
    dossier_queryset,
    folder_name,
)
from archives.models import CallArchive
from archives.states import ACTIVE, ArchiveStatus
from archives.zipstream import Entry, Folder, ZipWriter, csv_chunks, manifest_entry
from candidatures.models import Candidature
from candidatures.states import CandidatureStatus
from core.dates import format_datetime
from core.exceptions import DomainError
from core.storage import StorageUnavailable, is_storage_error
from evaluation.exports import ranking_table
from evaluation.models import CommitteeRecord

logger = logging.getLogger(__name__)

# A build whose progress has not moved for this long was interrupted (a worker killed):
# it no longer holds the call, and a new request may start.
STALE_AFTER = dt.timedelta(minutes=30)


class ArchiveBusy(DomainError):
    """An archive of the call is already being built."""


# --- A dossier -------------------------------------------------------------------------------


def dossier_archive_name(candidature: Candidature) -> str:
    return f"Archive-{folder_name(candidature)}.zip"


def stream_dossier_archive(candidature: Candidature) -> Iterator[bytes]:
    """The ZIP of ``candidature``, chunk by chunk, its ``manifest.csv`` last."""
    candidature = dossier_queryset().get(pk=candidature.pk)
    writer = ZipWriter()
    for entry in dossier_entries(candidature):
        yield from writer.add(entry)
    yield from writer.add(manifest_entry("manifest.csv", lambda: list(writer.written)))
    yield from writer.close()


# --- A call: the request ---------------------------------------------------------------------


def archived_dossiers(call: Call):
    """The dossiers a call's archive holds: every dossier submitted once (a dossier
    withdrawn and never submitted again keeps its receipts)."""
    return (
        Candidature.objects.filter(call=call)
        .filter(Q(status=CandidatureStatus.SUBMITTED) | Q(receipts__isnull=False))
        .distinct()
        .order_by("organisation__name", "pk")
    )


def _interrupted(archive: CallArchive, now: dt.datetime) -> bool:
    last = archive.progressed_at or archive.started_at or archive.requested_at
    return now - last > STALE_AFTER


def request_call_archive(call: Call, *, by) -> CallArchive:
    """Record a request for ``call``'s archive and queue its build after commit. Refused
    while another build of the call is queued or running (a second click)."""
    if not rules.can_archive(by):
        raise PermissionDenied
    from archives import tasks  # the tasks module imports this one

    now = timezone.now()
    with transaction.atomic():
        # The call's row: two requests at the same instant are taken one after the other.
        Call.objects.select_for_update().filter(pk=call.pk).values_list("pk").get()
        for active in CallArchive.objects.filter(call=call, status__in=ACTIVE):
            if not _interrupted(active, now):
                raise ArchiveBusy(
                    _(
                        "Une archive de cet appel à projets est déjà en préparation "
                        "(demandée le %(date)s par %(who)s, %(done)s dossier(s) sur "
                        "%(total)s) : attendez qu'elle soit prête."
                    )
                    % {
                        "date": format_datetime(active.requested_at),
                        "who": active.requested_by.get_full_name() or active.requested_by.email,
                        "done": active.dossiers_done,
                        "total": active.dossiers_total,
                    }
                )
            _fail(active, _("Construction interrompue (le traitement s'est arrêté)."), now=now)
        archive = CallArchive.objects.create(
            call=call,
            requested_by=by,
            requested_at=now,
            dossiers_total=archived_dossiers(call).count(),
        )
        transaction.on_commit(lambda: tasks.build_call_archive.delay(archive_id=archive.pk))
    return archive


def _fail(archive: CallArchive, message: str, *, now=None) -> None:
    CallArchive.objects.filter(pk=archive.pk, status__in=ACTIVE).update(
        status=ArchiveStatus.FAILED, error=message, finished_at=now or timezone.now()
    )


def latest_archives(call: Call):
    return CallArchive.objects.filter(call=call).select_related("requested_by", "call")


# --- A call: the build -----------------------------------------------------------------------


def call_archive_stream(
    call: Call, *, progress: Callable[[int], None] = lambda done: None
) -> Iterator[bytes]:
    """The ZIP of a whole call, chunk by chunk: each dossier's folder with its own
    manifest, the committee records once, the call's manifest last. ``progress`` is told
    after each dossier how many are done."""
    writer = ZipWriter()
    root = Folder("")
    rankings = {lot.pk: ranking_table(lot) for lot in call.lots.all()}
    dossier_ids = archived_dossiers(call).values_list("pk", flat=True)
    for done, pk in enumerate(dossier_ids, start=1):
        candidature = dossier_queryset().get(pk=pk)
        folder = root.name(folder_name(candidature))
        first = len(writer.written)
        for entry in dossier_entries(
            candidature, root=folder, rankings=rankings, with_committee=False
        ):
            yield from writer.add(entry)
        yield from writer.add(
            manifest_entry(
                f"{folder}/manifest.csv",
                lambda first=first: writer.written[first:],
                strip=f"{folder}/",
            )
        )
        progress(done)
    committee = Folder("comite")
    for record in CommitteeRecord.objects.filter(call=call).select_related("lot", "call"):
        yield from writer.add(committee_entry(committee, record))
    yield from writer.add(_dossier_list_entry(call))
    yield from writer.add(manifest_entry("manifest.csv", lambda: list(writer.written)))
    yield from writer.close()


def _dossier_list_entry(call: Call) -> Entry:
    def rows():
        return [
            [
                d.pk,
                d.organisation.name,
                d.organisation.siret,
                d.get_status_display(),
                d.submitted_at,
            ]
            for d in archived_dossiers(call).select_related("organisation")
        ]

    return Entry(
        "dossiers.csv",
        csv_chunks([_("N°"), _("Structure"), _("SIRET"), _("Statut"), _("Déposé le")], rows),
        _("Liste des dossiers archivés de l'appel à projets (CSV)"),
    )


def build_call_archive(archive_id: int) -> CallArchive | None:
    """Build the requested archive once: claim it (a second run of the task finds it
    taken and does nothing), write the ZIP to a temporary file while its SHA-256 is
    computed, store it, and record its size and hash; or record why it failed, in
    French, so that staff read it and ask again."""
    now = timezone.now()
    claimed = CallArchive.objects.filter(pk=archive_id, status=ArchiveStatus.QUEUED).update(
        status=ArchiveStatus.BUILDING, started_at=now, progressed_at=now
    )
    if claimed != 1:
        return None
    archive = CallArchive.objects.select_related("call").get(pk=archive_id)
    total = archived_dossiers(archive.call).count()
    CallArchive.objects.filter(pk=archive_id).update(dossiers_total=total, dossiers_done=0)

    def progress(done: int) -> None:
        CallArchive.objects.filter(pk=archive_id).update(
            dossiers_done=min(done, total), progressed_at=timezone.now()
        )

    try:
        size, sha256, name = _write(archive, call_archive_stream(archive.call, progress=progress))
    except Exception as error:
        _fail(archive, _failure_message(error))
        if isinstance(error, DomainError) or is_storage_error(error):
            # Recorded for staff, logged for the administrator; asking again retries.
            logger.error("Archive %s of call %s failed", archive_id, archive.call_id, exc_info=True)
            return CallArchive.objects.get(pk=archive_id)
        logger.exception("Archive %s of call %s failed", archive_id, archive.call_id)
        raise
    with transaction.atomic():
        updated = CallArchive.objects.filter(pk=archive_id, status=ArchiveStatus.BUILDING).update(
            status=ArchiveStatus.READY,
            file=name,
            size=size,
            sha256=sha256,
            dossiers_done=total,
            finished_at=timezone.now(),
            error="",
        )
        if updated != 1:
            # Marked interrupted meanwhile: this file is nobody's.
            transaction.on_commit(lambda: archive.file.storage.delete(name))
            return CallArchive.objects.get(pk=archive_id)
        _replace_older(archive)
    return CallArchive.objects.get(pk=archive_id)


def _write(archive: CallArchive, chunks: Iterator[bytes]) -> tuple[int, str, str]:
    hasher, size = hashlib.sha256(), 0
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as handle:
        for chunk in chunks:
            hasher.update(chunk)
            size += len(chunk)
            handle.write(chunk)
        handle.flush()
        handle.seek(0)
        name = archive.file.field.generate_filename(archive, archive.filename)
        stored = archive.file.storage.save(name, File(handle, name=archive.filename))
    return size, hasher.hexdigest(), stored


def _replace_older(archive: CallArchive) -> None:
    """Older ready archives of the call give way to this one: their files go after commit."""
    older = list(
        CallArchive.objects.select_for_update()
        .filter(call=archive.call_id, status=ArchiveStatus.READY)
        .exclude(pk=archive.pk)
    )
    for previous in older:
        name, storage = previous.file.name, previous.file.storage
        if name:
            transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
    CallArchive.objects.filter(pk__in=[p.pk for p in older]).update(
        status=ArchiveStatus.REPLACED, file=""
    )


def discard_call_archives(call_id: int, *, note: str) -> int:
    """Delete the stored archives of a call (after commit) and record why: a call's
    archive holds copies of its dossiers' files, which must go when those are eliminated
    (the retention's elimination calls this). Returns how many files go."""
    with transaction.atomic():
        archives = list(
            CallArchive.objects.select_for_update().filter(call=call_id).exclude(file="")
        )
        for archive in archives:
            name, storage = archive.file.name, archive.file.storage
            transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
        CallArchive.objects.filter(pk__in=[a.pk for a in archives]).update(
            status=ArchiveStatus.DISCARDED, file="", error=note
        )
    return len(archives)


def _failure_message(error: BaseException) -> str:
    if isinstance(error, StorageUnavailable) or is_storage_error(error):
        return _(
            "L'archive n'a pas pu être enregistrée : l'espace de stockage de la plateforme est "
            "plein ou indisponible. Rien n'a été gardé ; réessayez plus tard, et prévenez "
            "l'administrateur si le problème persiste."
        )
    if isinstance(error, DomainError):
        return error.message
    return _(
        "L'archive n'a pas pu être construite à cause d'une erreur inattendue : "
        "réessayez ; si le problème persiste, prévenez l'administrateur."
    )
