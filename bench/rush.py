"""The deadline rush: many candidates finish and submit their dossiers at the same time.

``prepare`` opens a call for the bench with the demo call's form and required documents
(``demo.loader``), and gives each candidate an account, an organisation, a draft
dossier and real files on disk (``bench.files``). ``run`` lets every candidate, in its
own thread, log in through the form, fill in the answers, upload its files, then submit:
the submissions leave together, as clicks do in the last minute before a deadline.
``verify`` reads the database afterwards: every dossier submitted with exactly one
receipt, receipt numbers unique and consecutive, every stored file's SHA-256 equal to
what was sent. ``cleanup`` removes the call, its dossiers, accounts and files.
"""

import contextlib
import datetime as dt
import hashlib
import math
import random
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, OrganisationKind, Programme, QuestionKind, RequiredDocument
from aap.states import CallStatus
from bench import data, files
from bench.browser import Browser, Response
from bench.env import OUTPUT_DIR
from bench.load import percentile_ms
from candidatures.models import Candidature, Membership, Organisation, Receipt
from candidatures.states import CandidatureStatus
from core.models import OutgoingEmail, User
from core.roles import Role
from core.uploads import clean_filename
from demo import loader, seed
from demo.dates import CallDates

REFERENCE = "AAP-BENCH-RUSH"
SLUG = "aap-bench-rush-depot-de-derniere-minute"
PASSWORD = "bench-rush-mot-de-passe-2024"
FOLDER = OUTPUT_DIR / "rush"
# The files of each candidate: (index of the required document in the demo call, name).
UPLOADS = [
    (0, "Dossier de demande de financement.docx"),
    (1, "Budgets prévisionnels.xlsx"),
    (2, "Attestation d'engagement signée.pdf"),
    (3, "CV Camille Martin.pdf"),
    (3, "CV Dominique Faure.docx"),
]
MIN_SIZE, MAX_SIZE = 150 * 1024, 3 * 1024 * 1024  # log-uniform between them
BIG_PIECE = 2  # the attestation (PDF only) takes the big upload of ``bench.memory``
BIG_PIECE_MAX_MB = 60
STEPS = [
    "login_page",
    "login",
    "answers_form",
    "answers",
    "documents_page",
    "upload",
    "submit_page",
    "submit",
    "dossier_page",
    "login_at_deadline",
]


@dataclass
class Candidate:
    email: str
    dossier_id: int
    uploads: list[tuple[int, files.File]] = field(default_factory=list)  # (required pk, file)
    answers: list[tuple[str, str]] = field(default_factory=list)  # the form's fields


@dataclass
class Setup:
    call_id: int
    reference: str
    candidates: list[Candidate]
    big: Candidate  # the account of the 50 MB upload, apart from the rush
    big_required_id: int
    small_required_id: int  # a piece taking several PDF files, for warm-up uploads
    urls: dict[str, str]
    # Accounts that only log in, at the instant of the deposits (``prepare(logins=…)``).
    logins: list[Candidate] = field(default_factory=list)

    def url(self, name: str, **kwargs) -> str:
        return self.urls[name].format(**kwargs)


# --- Set-up and clean-up ------------------------------------------------------------------


def cleanup() -> None:
    """Remove every trace of a previous rush: call, dossiers, accounts, e-mails, files."""
    calls = list(Call.objects.filter(reference=REFERENCE))
    accounts = User.objects.filter(email__startswith="rush-", email__endswith=data.CANDIDATE_DOMAIN)
    with transaction.atomic():
        forget_receipts(Receipt.objects.filter(call__in=calls))
        Candidature.objects.filter(call__in=calls).delete()
        for required in RequiredDocument.objects.filter(call__in=calls).exclude(template=""):
            default_storage.delete(required.template.name)
        Call.objects.filter(pk__in=[call.pk for call in calls]).delete()
        Organisation.objects.filter(memberships__user__in=accounts).delete()
        _forget_logins(list(accounts.values_list("email", flat=True)))
        accounts.delete()
    for call in calls:
        shutil.rmtree(Path(default_storage.path(f"dossiers/{call.pk}")), ignore_errors=True)
    shutil.rmtree(FOLDER, ignore_errors=True)


def forget_receipts(receipts) -> None:
    """Delete ``receipts`` and their e-mails (outbox rows keyed ``receipt-<pk>``)."""
    OutgoingEmail.objects.filter(
        key__in=[f"receipt-{pk}" for pk in receipts.values_list("pk", flat=True)]
    ).delete()
    receipts.delete()


def _forget_logins(emails: list[str]) -> None:
    """django-axes keeps a row per login: the rush's go with its accounts."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=emails).delete()


def _open_call(now: dt.datetime) -> Call:
    """The demo call's copy, open since a month and until tomorrow."""
    programme, _ = Programme.objects.get_or_create(
        short_name=seed.PROGRAMME["short_name"], defaults=seed.PROGRAMME
    )
    deadline = (now + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    call = loader._create_call(
        programme,
        reference=REFERENCE,
        slug=SLUG,
        title=f"{seed.CALL['title']} (bench : dépôt de dernière minute)",
        opens_at=now - dt.timedelta(days=30),
        deadline=deadline,
        is_demo=False,
        dates=CallDates(deadline),
    )
    loader._add_structure(call, dates=CallDates(deadline))
    # A 50 MB file fits in the attestation, and the dossier with it under the call's limit.
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.PUBLISHED,
        published_at=now - dt.timedelta(days=31),
        max_dossier_size_mb=BIG_PIECE_MAX_MB + 40,
    )
    required = list(call.required_documents.order_by("position"))
    RequiredDocument.objects.filter(pk=required[BIG_PIECE].pk).update(max_size_mb=BIG_PIECE_MAX_MB)
    call.refresh_from_db()
    return call


def _answers(call: Call, rng: random.Random, now: dt.datetime) -> list[tuple[str, str]]:
    """The answers form as a candidate fills it in, every question answered."""
    lots = [str(lot.pk) for lot in call.lots.all()]
    fields = []
    for question in call.form_questions.all():
        name, kind = f"q{question.pk}", question.kind
        if kind == QuestionKind.LOTS:
            fields += [(name, lot) for lot in rng.sample(lots, rng.randint(1, len(lots)))]
        elif kind == QuestionKind.CHOICES:
            fields += [(name, choice) for choice in rng.sample(question.choice_list, 2)]
        elif kind == QuestionKind.YES_NO:
            fields.append((name, rng.choice(["yes", "no"])))
        elif kind == QuestionKind.NUMBER:
            fields.append((name, "0,5"))
        elif kind == QuestionKind.AMOUNT:
            fields.append((name, f"{rng.randint(10, 60) * 1000}"))
        elif kind == QuestionKind.DATE:
            fields.append((name, (now + dt.timedelta(days=60)).strftime("%d/%m/%Y")))
        else:
            text = " ".join(rng.choices(data.SENTENCES, k=12))
            fields.append((name, text[: question.max_length or 250]))
    return fields


def prepare(count: int, *, logins: int = 0, seed_value: int = 2024) -> Setup:
    """A fresh open call, ``count`` candidates ready to log in, their files on disk; and
    ``logins`` more accounts that will log in while the deposits leave."""
    cleanup()
    now = timezone.now()
    rng = random.Random(seed_value)
    # One hash for every account: the login checks it at full cost, the set-up does not.
    password = make_password(PASSWORD)
    with transaction.atomic():
        call = _open_call(now)
        required = list(call.required_documents.order_by("position"))
        users = User.objects.bulk_create(
            User(
                email=f"rush-{index:03d}@{data.CANDIDATE_DOMAIN}",
                password=password,
                first_name=rng.choice(data.FIRST_NAMES),
                last_name=rng.choice(data.LAST_NAMES),
                email_verified_at=now,
            )
            # After the candidates, the account of the big upload, then those that only log in.
            for index in range(count + 1 + logins)
        )
        group = Group.objects.get(name=Role.CANDIDAT)
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=user.pk, group_id=group.pk) for user in users
        )
        organisations = Organisation.objects.bulk_create(
            Organisation(
                name=f"Structure du rush n° {index}",
                kind=OrganisationKind.EPCI,
                siret=data.siret(8, index),
                address="7 rue Fantin-Latour",
                postal_code="38000",
                city="Grenoble",
                legal_representative_name=f"{user.first_name} {user.last_name}",
                legal_representative_role="Président",
                legal_representative_email=user.email,
                created_by=user,
            )
            for index, user in enumerate(users)
        )
        Membership.objects.bulk_create(
            Membership(organisation=organisation, user=user)
            for organisation, user in zip(organisations, users, strict=True)
        )
        dossiers = Candidature.objects.bulk_create(
            Candidature(call=call, organisation=organisation, created_by=user)
            for organisation, user in zip(organisations, users, strict=True)
        )
    candidates = []
    for index, (user, dossier) in enumerate(zip(users, dossiers, strict=True)):
        candidate = Candidate(user.email, dossier.pk, answers=_answers(call, rng, now))
        if index < count:
            for position, name in UPLOADS:
                size = int(math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE))))
                file = files.write(FOLDER / f"{index:03d}", name, size)
                candidate.uploads.append((required[position].pk, file))
        candidates.append(candidate)
    return Setup(
        call_id=call.pk,
        reference=call.reference,
        candidates=candidates[:count],
        big=candidates[count],
        logins=candidates[count + 1 :],
        big_required_id=required[BIG_PIECE].pk,
        small_required_id=required[3].pk,
        urls={
            "login": reverse("accounts:login"),
            "answers": reverse("candidatures:answers", args=[0]).replace("/0/", "/{pk}/"),
            "documents": reverse("candidatures:documents", args=[0]).replace("/0/", "/{pk}/"),
            "upload": reverse("candidatures:upload", args=[0, 0]).replace(
                "/0/pieces/0/", "/{pk}/pieces/{required}/"
            ),
            "submit": reverse("candidatures:submit", args=[0]).replace("/0/", "/{pk}/"),
            "dossier": reverse("candidatures:dossier", args=[0]).replace("/0/", "/{pk}/"),
        },
    )


# --- The rush -----------------------------------------------------------------------------


class StepFailed(Exception):
    pass


@dataclass
class Step:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # message -> count
    first: float = math.inf  # perf_counter of the first request's start
    last: float = 0.0  # and of the last answer

    def as_dict(self) -> dict:
        return {
            "step": self.name,
            "requests": len(self.latencies) + sum(self.errors.values()),
            "p50_ms": round(percentile_ms(self.latencies, 50), 1),
            "p90_ms": round(percentile_ms(self.latencies, 90), 1),
            "p95_ms": round(percentile_ms(self.latencies, 95), 1),
            "p99_ms": round(percentile_ms(self.latencies, 99), 1),
            "max_ms": round(max(self.latencies, default=math.nan) * 1000, 1),
            "errors": sum(self.errors.values()),
            "error_samples": dict(self.errors.most_common(5)),
        }


class Journey:
    """One candidate's visit; each request's latency goes to its step."""

    def __init__(self, browser: Browser, setup: Setup, candidate: Candidate, steps, lock):
        self.browser, self.setup, self.candidate = browser, setup, candidate
        self.steps, self.lock = steps, lock
        self.uploaded: list[files.File] = []
        self.submitted = False

    def _record(self, step: str, response: Response | None, error: str | None) -> None:
        with self.lock:
            record = self.steps[step]
            if error:
                record.errors[error] += 1
            else:
                record.latencies.append(response.seconds)
            if response is not None:
                record.first = min(record.first, response.began)
                record.last = max(record.last, response.began + response.seconds)

    def call(self, step: str, send, *, expect: int, location: str = "", contains: str = ""):
        self.browser.step = step
        try:
            response = send()
        except Exception as error:  # network errors count as errors of their step
            self._record(step, None, type(error).__name__)
            raise StepFailed(step) from error
        error = None
        if response.status != expect:
            error = f"HTTP {response.status}"
        elif location and not response.location.startswith(location):
            error = f"redirigé vers {response.location or '?'}"
        elif contains and contains not in response.text:
            error = "message attendu absent"
        elif "alert-danger" in response.text:
            error = "message d'erreur dans la page"
        self._record(step, response, error)
        if error:
            raise StepFailed(f"{step}: {error}")
        return response

    def login(self) -> None:
        url = self.setup.url("login")
        page = self.call("login_page", lambda: self.browser.get(url), expect=200)
        fields = [
            ("csrfmiddlewaretoken", page.csrf_token()),
            ("username", self.candidate.email),
            ("password", PASSWORD),
        ]
        self.call("login", lambda: self.browser.post(url, fields), expect=302)
        if "sessionid" not in self.browser.cookies:
            raise StepFailed("login: pas de session")

    def fill_in(self) -> None:
        pk = self.candidate.dossier_id
        url = self.setup.url("answers", pk=pk)
        page = self.call("answers_form", lambda: self.browser.get(url), expect=200)
        fields = [("csrfmiddlewaretoken", page.csrf_token()), *self.candidate.answers]
        dossier = self.setup.url("dossier", pk=pk)
        self.call("answers", lambda: self.browser.post(url, fields), expect=302, location=dossier)

    def upload_all(self) -> None:
        pk = self.candidate.dossier_id
        documents = self.setup.url("documents", pk=pk)
        page = self.call("documents_page", lambda: self.browser.get(documents), expect=200)
        token = page.csrf_token()
        for required_id, file in self.candidate.uploads:
            self.upload(required_id, file, token)

    def upload(self, required_id: int, file: files.File, token: str) -> None:
        pk = self.candidate.dossier_id
        url = self.setup.url("upload", pk=pk, required=required_id)
        documents = self.setup.url("documents", pk=pk)
        self.call(
            "upload",
            lambda: self.browser.upload(
                url,
                [("csrfmiddlewaretoken", token)],
                field="file",
                name=file.name,
                file=file.path,
            ),
            expect=302,
            location=documents,
        )
        # The view answers with a redirection either way: its message tells the outcome.
        self.call(
            "documents_page",
            lambda: self.browser.get(documents),
            expect=200,
            contains="alert-success",
        )
        self.uploaded.append(file)

    def open_submit(self) -> str:
        url = self.setup.url("submit", pk=self.candidate.dossier_id)
        page = self.call("submit_page", lambda: self.browser.get(url), expect=200)
        return page.csrf_token()

    def submit(self, token: str) -> None:
        pk = self.candidate.dossier_id
        url, dossier = self.setup.url("submit", pk=pk), self.setup.url("dossier", pk=pk)
        fields = [("csrfmiddlewaretoken", token), ("certified", "on")]
        # The answer to the submission is the receipt itself.
        self.call(
            "submit",
            lambda: self.browser.post(url, fields),
            expect=200,
            contains="Accusé de réception n°",
        )
        self.submitted = True
        self.call(
            "dossier_page",
            lambda: self.browser.get(dossier),
            expect=200,
            contains="Accusé de réception n°",
        )


def warm_up(host: str, port: int, setup: Setup, *, workers: int) -> None:
    """Every page and form of the journey a few times per worker, as the account of the
    big upload: the rush then meets workers that have loaded their code and templates,
    as in production at the end of a call."""
    folder = FOLDER / "warm-up"
    small = files.write(folder, "CV.pdf", 200 * 1024)
    candidate = setup.big
    steps = {name: Step(name) for name in STEPS}
    journey = Journey(Browser(host, port), setup, candidate, steps, threading.Lock())
    journey.login()
    anonymous = Journey(Browser(host, port), setup, candidate, steps, threading.Lock())
    pk = candidate.dossier_id
    pages = [
        ("answers_form", setup.url("answers", pk=pk)),
        ("submit_page", setup.url("submit", pk=pk)),
        ("documents_page", setup.url("documents", pk=pk)),
    ]
    login = setup.url("login")
    for _ in range(3 * workers):
        anonymous.call("login_page", lambda: anonymous.browser.get(login), expect=200)
        for name, url in pages:
            page = journey.call(name, lambda url=url: journey.browser.get(url), expect=200)
        journey.upload(setup.small_required_id, small, page.csrf_token())
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class RushResult:
    candidates: int
    seconds: float
    steps: list[dict]
    uploads: int
    upload_bytes: int
    upload_seconds: float  # from the first upload's start to the last one's answer
    submissions: int
    submit_seconds: float  # from the common signal to the last submission's answer
    errors: int
    failures: list[str]

    def as_dict(self) -> dict:
        return {
            "candidates": self.candidates,
            "seconds": round(self.seconds, 2),
            "uploads": self.uploads,
            "upload_megabytes": round(self.upload_bytes / files.MIB, 1),
            "upload_seconds": round(self.upload_seconds, 2),
            "uploads_per_second": round(self.uploads / self.upload_seconds, 2)
            if self.upload_seconds
            else 0.0,
            "upload_megabytes_per_second": round(
                self.upload_bytes / files.MIB / self.upload_seconds, 1
            )
            if self.upload_seconds
            else 0.0,
            "submissions": self.submissions,
            "submit_seconds": round(self.submit_seconds, 2),
            "submissions_per_second": round(self.submissions / self.submit_seconds, 2)
            if self.submit_seconds
            else 0.0,
            "errors": self.errors,
            "failures": self.failures[:10],
            "steps": self.steps,
        }


def run(host: str, port: int, setup: Setup) -> RushResult:
    """Every candidate at once; the submissions wait for each other and leave together,
    with the logins of ``setup.logins`` (if any) at the same instant."""
    steps = {name: Step(name) for name in STEPS}
    lock = threading.Lock()
    count = len(setup.candidates)
    everyone = count + len(setup.logins)
    start = threading.Barrier(everyone + 1)
    deadline_click = threading.Barrier(everyone, action=lambda: click.append(time.perf_counter()))
    click: list[float] = []
    journeys, failures = [], []

    def visit(candidate: Candidate) -> None:
        journey = Journey(Browser(host, port), setup, candidate, steps, lock)
        journeys.append(journey)
        token = None
        start.wait()
        try:
            journey.login()
            journey.fill_in()
            journey.upload_all()
            token = journey.open_submit()
        except Exception as error:  # any failure: reported, and this candidate stops here
            failures.append(f"{candidate.email}: {type(error).__name__} {error}")
        # A candidate that failed earlier still takes its place, so that nobody waits.
        with contextlib.suppress(threading.BrokenBarrierError):
            deadline_click.wait(timeout=600)
        if token is not None:
            try:
                journey.submit(token)
            except Exception as error:
                failures.append(f"{candidate.email}: {type(error).__name__} {error}")

    def log_in_at_the_deadline(candidate: Candidate) -> None:
        """Another account's login, its password checked as the deposits are taken."""
        journey = Journey(Browser(host, port), setup, candidate, steps, lock)
        url = setup.url("login")
        fields = None
        start.wait()
        try:
            page = journey.call("login_page", lambda: journey.browser.get(url), expect=200)
            fields = [
                ("csrfmiddlewaretoken", page.csrf_token()),
                ("username", candidate.email),
                ("password", PASSWORD),
            ]
        except Exception as error:
            failures.append(f"{candidate.email}: {type(error).__name__} {error}")
        with contextlib.suppress(threading.BrokenBarrierError):
            deadline_click.wait(timeout=600)
        if fields is not None:
            try:
                journey.call(
                    "login_at_deadline",
                    lambda: journey.browser.post(url, fields),
                    expect=302,
                )
            except Exception as error:
                failures.append(f"{candidate.email}: {type(error).__name__} {error}")

    threads = [
        threading.Thread(target=visit, args=(candidate,), daemon=True)
        for candidate in setup.candidates
    ] + [
        threading.Thread(target=log_in_at_the_deadline, args=(candidate,), daemon=True)
        for candidate in setup.logins
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    ended = time.perf_counter()
    upload = steps["upload"]
    submit = steps["submit"]
    uploaded = [file for journey in journeys for file in journey.uploaded]
    return RushResult(
        candidates=count,
        seconds=ended - began,
        steps=[
            steps[name].as_dict() for name in STEPS if name != "login_at_deadline" or setup.logins
        ],
        uploads=len(uploaded),
        upload_bytes=sum(file.size for file in uploaded),
        upload_seconds=max(0.0, upload.last - upload.first) if upload.latencies else 0.0,
        submissions=sum(journey.submitted for journey in journeys),
        submit_seconds=max(0.0, submit.last - click[0]) if click and submit.latencies else 0.0,
        errors=sum(sum(step.errors.values()) for step in steps.values()),
        failures=failures,
    )


# --- Afterwards, in the database ------------------------------------------------------------


def _sha256_of_stored(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify(setup: Setup, candidates: list[Candidate]) -> dict:
    """What the database holds after the rush, against the files each candidate sent."""
    ids = [candidate.dossier_id for candidate in candidates]
    dossiers = {
        dossier.pk: dossier
        for dossier in Candidature.objects.filter(pk__in=ids).prefetch_related(
            "receipts", "documents"
        )
    }
    receipts = list(Receipt.objects.filter(call_id=setup.call_id).order_by("sequence"))
    submitted = [d for d in dossiers.values() if d.status == CandidatureStatus.SUBMITTED]
    one_receipt = [d for d in dossiers.values() if len(d.receipts.all()) == 1]
    sequences = [receipt.sequence for receipt in receipts]
    numbers = [receipt.number for receipt in receipts]
    expected_numbers = [f"{setup.reference}-{sequence:04d}" for sequence in sequences]
    files_expected = files_matching = files_on_disk = manifests_matching = 0
    problems = []
    for candidate in candidates:
        dossier = dossiers.get(candidate.dossier_id)
        wanted = Counter(
            (clean_filename(file.name), file.size, file.sha256) for _, file in candidate.uploads
        )
        files_expected += len(candidate.uploads)
        if dossier is None:
            problems.append(f"{candidate.email}: dossier introuvable")
            continue
        stored = Counter((d.original_name, d.size, d.sha256) for d in dossier.documents.all())
        files_matching += sum((wanted & stored).values())
        if stored != wanted:
            problems.append(f"{candidate.email}: fichiers enregistrés ≠ fichiers envoyés")
        for document in dossier.documents.all():
            if _sha256_of_stored(document.file.name) == document.sha256:
                files_on_disk += 1
            else:
                problems.append(f"{candidate.email}: {document.original_name} altéré sur disque")
        for receipt in dossier.receipts.all():
            listed = Counter(
                (d["name"], d["size"], d["sha256"]) for d in receipt.manifest["documents"]
            )
            manifests_matching += listed == stored
    emails = OutgoingEmail.objects.filter(
        key__in=[f"receipt-{receipt.pk}" for receipt in receipts]
    ).count()
    checks = {
        "dossiers": len(candidates),
        "found": len(dossiers),
        "submitted": len(submitted),
        "with_exactly_one_receipt": len(one_receipt),
        "receipts": len(receipts),
        "receipt_numbers_unique": len(set(numbers)) == len(numbers),
        "receipt_sequences_consecutive": sequences == list(range(1, len(receipts) + 1)),
        "receipt_numbers_follow_sequences": numbers == expected_numbers,
        "files_expected": files_expected,
        "files_matching_sha256": files_matching,
        "files_on_disk_matching_sha256": files_on_disk,
        "manifests_matching_files": manifests_matching,
        "receipt_emails_queued": emails,
        "problems": problems[:10],
    }
    checks["ok"] = (
        len(dossiers) == len(submitted) == len(one_receipt) == len(receipts) == len(candidates)
        and checks["receipt_numbers_unique"]
        and checks["receipt_sequences_consecutive"]
        and checks["receipt_numbers_follow_sequences"]
        and files_expected == files_matching == files_on_disk
        and manifests_matching == len(receipts)
        and emails == len(receipts)
        and not problems
    )
    return checks
