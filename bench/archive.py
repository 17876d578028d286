"""A call's archive over 200 dossiers of a 1 MB file each, built by a real Celery worker
(issue 14): the worker's peak resident memory, against the 100 MB the issue asks for.

A worker of this platform weighs about 150 MB at rest, before any task (Django and every
app, psycopg with its libpq, WeasyPrint with Pango and Cairo, Celery): the absolute
bound cannot be met by the archive's code. What it controls is how much the worker grows
while building, which is checked against 100 MB; the absolute peak is printed beside it.

``prepare`` adds to the bench database a call under review whose dossiers are submitted,
each with its answers and one stored file of random bytes (which no compression
shrinks); files are written to the bench's private storage (``var/bench/private``).
``run`` starts a Celery worker (``--pool=solo``: the task runs in the worker's own
process) with the bench's settings, asks for the archive through the service staff use
(``archives.services.request_call_archive``), waits until the task has built it, and
reads the worker's ``VmHWM`` (its peak resident memory since it started, start-up
included) from ``/proc``; then checks the stored ZIP (its SHA-256, every dossier's file).
``cleanup`` removes the call, its dossiers, their files and the archive.
"""

import datetime as dt
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from aap.models import Call, Lot, Programme, Question, QuestionKind, RequiredDocument
from aap.states import CallStatus
from archives import services
from archives.models import CallArchive
from archives.states import ArchiveStatus
from bench import data
from bench import env as bench_env
from candidatures.models import Answer, Candidature, Document, Organisation
from candidatures.states import CandidatureStatus
from demo import seed
from demo.dates import CallDates

REFERENCE = "AAP-BENCH-ARCHIVE"
SLUG = "aap-bench-archive-d-un-appel"
DOSSIERS = 200
FILE_BYTES = 1024 * 1024
SIRET_PREFIX = 3  # data uses 9, the rush 8, the ranking 6, the sweep 5, slow clients 4
RSS_LIMIT_MIB = 100
WAIT_SECONDS = 1800


@dataclass
class Setup:
    call_id: int
    dossiers: int
    file_bytes: int
    seconds: float


def cleanup() -> None:
    calls = list(Call.objects.filter(reference=REFERENCE).values_list("pk", flat=True))
    for archive in CallArchive.objects.filter(call__in=calls).exclude(file=""):
        archive.file.storage.delete(archive.file.name)
    for document in Document.objects.filter(candidature__call__in=calls):
        document.file.storage.delete(document.file.name)
    with transaction.atomic():
        CallArchive.objects.filter(call__in=calls).delete()
        dossiers = Candidature.objects.filter(call__in=calls)
        organisations = list(dossiers.values_list("organisation_id", flat=True))
        # Bulk deletes: the rows' own guards are for people, not for the bench's clean-up.
        Document.objects.filter(candidature__in=dossiers).delete()
        Answer.objects.filter(candidature__in=dossiers).delete()
        dossiers.delete()
        Organisation.objects.filter(pk__in=organisations).delete()
        Call.objects.filter(pk__in=calls).delete()


def prepare(*, dossiers: int = DOSSIERS, file_bytes: int = FILE_BYTES) -> Setup:
    began = time.perf_counter()
    cleanup()
    rng = random.Random(2024)
    now = timezone.now().replace(microsecond=0)
    deadline = (now - dt.timedelta(days=30)).replace(hour=17, minute=0, second=0)
    programme, _ = Programme.objects.get_or_create(
        short_name=seed.PROGRAMME["short_name"], defaults=seed.PROGRAMME
    )
    with transaction.atomic():
        call = Call.objects.create(
            programme=programme,
            **{k: v for k, v in seed.call_fields(CallDates(deadline)).items() if k != "title"},
            title=f"{seed.CALL['title']} (bench : archive de {dossiers} dossiers)",
            reference=REFERENCE,
            slug=SLUG,
            opens_at=deadline - dt.timedelta(days=60),
            deadline=deadline,
            status=CallStatus.UNDER_REVIEW,
            published_at=deadline - dt.timedelta(days=67),
        )
        # bulk_create: a call's structure is frozen once published (``CallPart.save``).
        [lot] = Lot.objects.bulk_create([Lot(call=call, position=1, name="Nord Isère", fte="0.5")])
        [piece] = RequiredDocument.objects.bulk_create(
            [
                RequiredDocument(
                    call=call,
                    position=1,
                    label="Dossier de demande de financement",
                    allowed_formats=["pdf"],
                )
            ]
        )
        [summary] = Question.objects.bulk_create(
            [Question(call=call, position=1, label="Résumé du projet", kind=QuestionKind.LONG_TEXT)]
        )
        organisations = Organisation.objects.bulk_create(
            Organisation(
                name=f"Structure archivée n° {index + 1}",
                kind="epci",
                siret=data.siret(SIRET_PREFIX, index),
                address="1 place de Verdun",
                postal_code="38000",
                city="Grenoble",
                legal_representative_name="Camille Martin",
                legal_representative_role="Président",
                legal_representative_email=f"direction-{index + 1}@archive.bench.example",
            )
            for index in range(dossiers)
        )
        candidatures = Candidature.objects.bulk_create(
            Candidature(
                call=call,
                organisation=organisation,
                status=CandidatureStatus.SUBMITTED,
                submitted_at=deadline - dt.timedelta(minutes=rng.randint(5, 20_000)),
            )
            for organisation in organisations
        )
        Candidature.lots.through.objects.bulk_create(
            Candidature.lots.through(candidature_id=c.pk, lot_id=lot.pk) for c in candidatures
        )
        Answer.objects.bulk_create(
            Answer(candidature=c, question=summary, value=" ".join(data.SENTENCES[:4]))
            for c in candidatures
        )
    documents = []
    for candidature in candidatures:
        content = rng.randbytes(file_bytes)
        name = default_storage.save(
            f"dossiers/{call.pk}/bench-{candidature.pk}", ContentFile(content)
        )
        documents.append(
            Document(
                candidature=candidature,
                required_document=piece,
                file=name,
                original_name=f"Dossier de demande {candidature.organisation.name}.pdf",
                size=file_bytes,
                sha256=hashlib.sha256(content).hexdigest(),
                file_format="pdf",
                uploaded_at=candidature.submitted_at,
            )
        )
    Document.objects.bulk_create(documents)
    return Setup(call.pk, dossiers, file_bytes, round(time.perf_counter() - began, 1))


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of ``pid``, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def _private_mib(pid: int) -> float:
    """The worker's own memory (USS: private pages, shared libraries left out), in MiB."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Private_Clean", "Private_Dirty"):
            total += int(rest.split()[0])
    return round(total / 1024, 1)


def _start_worker(environment: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"),
            *("--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"),
            *("-n", f"bench-archive-{os.getpid()}@%h"),
        ],
        cwd=bench_env.BASE_DIR,
        env={**os.environ, **environment, "CELERY_TASK_ALWAYS_EAGER": "false"},
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if " ready." in log.read_text():
            return process
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    sys.exit(f"Le worker Celery n'a pas démarré :\n{log.read_text()[-3000:]}")


def run(setup: Setup, environment: dict) -> dict:
    """The archive built by a real worker; its peak memory, its time, the ZIP checked."""
    bench_env.flush_broker()
    log = bench_env.OUTPUT_DIR / "archive-worker.log"
    worker = _start_worker(environment, log)
    try:
        idle = _memory(worker.pid)
        call = Call.objects.get(pk=setup.call_id)
        began = time.perf_counter()
        archive = services.request_call_archive(call, by=data.instructeur())
        peak_seen, samples = 0, 0
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            archive.refresh_from_db()
            if archive.status not in (ArchiveStatus.QUEUED, ArchiveStatus.BUILDING):
                break
            peak_seen = max(peak_seen, _memory(worker.pid)["VmRSS"])
            samples += 1
            time.sleep(0.5)
        seconds = time.perf_counter() - began
        after = _memory(worker.pid)
        private = _private_mib(worker.pid)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    figures = {
        "dossiers": setup.dossiers,
        "file_bytes": setup.file_bytes,
        "status": archive.status,
        "error": archive.error,
        "seconds": round(seconds, 1),
        "build_seconds": round((archive.finished_at - archive.started_at).total_seconds(), 1)
        if archive.finished_at and archive.started_at
        else None,
        "worker_rss_idle_mib": round(idle["VmRSS"] / 1024, 1),
        "worker_rss_peak_sampled_mib": round(peak_seen / 1024, 1),
        "worker_vmhwm_mib": round(after["VmHWM"] / 1024, 1),
        "worker_growth_mib": round((after["VmHWM"] - idle["VmRSS"]) / 1024, 1),
        "worker_private_after_mib": private,
        "rss_limit_mib": RSS_LIMIT_MIB,
        "samples": samples,
        "zip_bytes": archive.size,
        "zip_sha256": archive.sha256,
    }
    figures["verified"] = archive.status == ArchiveStatus.READY and _verify(archive, setup)
    return figures


def _verify(archive: CallArchive, setup: Setup) -> bool:
    """The stored ZIP: its SHA-256, one 1 MB file per dossier whose hash is the stored one."""
    hasher = hashlib.sha256()
    with archive.file.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            hasher.update(chunk)
    if hasher.hexdigest() != archive.sha256:
        return False
    expected = set(
        Document.objects.filter(candidature__call=setup.call_id).values_list("sha256", flat=True)
    )
    found = set()
    with archive.file.open("rb") as handle, zipfile.ZipFile(handle) as zipped:
        for info in zipped.infolist():
            if "/pieces/" in info.filename:
                digest = hashlib.sha256()
                with zipped.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        digest.update(chunk)
                found.add(digest.hexdigest())
    return found == expected and len(found) == setup.dossiers


def failures(figures: dict) -> list[str]:
    problems = []
    if figures["status"] != ArchiveStatus.READY:
        problems.append(f"archive non construite ({figures['status']} : {figures['error']})")
    if not figures["verified"]:
        problems.append("archive incomplète ou empreinte fausse")
    if figures["worker_growth_mib"] >= figures["rss_limit_mib"]:
        problems.append(
            f"le worker a grandi de {figures['worker_growth_mib']} Mio pendant la construction "
            f"(au plus {figures['rss_limit_mib']} Mio)"
        )
    return problems
