"""The last five seconds before a deadline, through the documented proxy, with a fault.

Every candidate has a complete dossier and a session; each clicks « Déposer » at its own
instant, spread over the five seconds before the deadline (and a few in the second after
the deadline's own, which must be refused). The requests go through nginx with deploy/nginx/ (which stamps their
arrival) to gunicorn with gunicorn.conf.py, a Celery worker delivers the receipts to an
SMTP sink in this process, and the broker is a Redis of this scenario's own.

Faults, one per run:
- ``none``;
- ``redis``: the broker hangs (SIGSTOP: it accepts connections and never answers) from
  six seconds before the deadline until every answer is in;
- ``postgres``: PostgreSQL restarts three seconds before the deadline
  (``pg_ctlcluster … restart``; the machine's cluster: the bench database lives there).

Each run reports what a candidate and the Département would ask: attempted, accepted,
refused although clicked before the deadline (must be 0), accepted although clicked after
it (must be 0), lost (a receipt promised and not in the database, or in the database and
never e-mailed: must be 0), duplicate receipt e-mails seen by the sink (at least once:
reported), and the latency of the answers (p50, p95, p99).
"""

import contextlib
import datetime as dt
import glob
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, Lot, OrganisationKind, Programme, Question, RequiredDocument
from aap.states import CallStatus
from bench import data, server
from bench.env import BASE_DIR, OUTPUT_DIR
from bench.load import percentile_ms
from bench.rush import forget_receipts
from bench.server import free_port
from candidatures import services
from candidatures.models import Candidature, Membership, Organisation, Receipt
from core.models import OutgoingEmail, User
from core.roles import Role
from demo import modeles, seed
from demo.dates import CallDates
from tests.nginx import find_nginx, nginx_proxy
from tests.processes import stop

REFERENCE = "AAP-BENCH-DEADLINE"
SLUG = "aap-bench-derniere-seconde"
SIRET_PREFIX = 2  # data uses 9, the rush 8, the ranking 6, the sweep 5, slow clients 4, archive 3
SPREAD = 5.0  # the clicks come in the last five seconds
LEAD = 25.0  # seconds from the start of a run to its deadline (CSRF pages first)
LATE_SHARE = 0.05  # candidates who click just after the deadline
PDF = modeles.sample_pdf("Dossier de demande de financement", ["Dépôt de dernière seconde"])
RECEIPT = re.compile(r"Accusé de réception n° ([A-Z0-9-]+)")
LATE = "est passée"


# --- The services of a run -----------------------------------------------------------------


class Sink:
    """An SMTP server that keeps each message's recipients and Message-ID."""

    def __init__(self):
        self.messages: list[tuple[str, tuple[str, ...]]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        headers = BytesParser().parsebytes(envelope.original_content, headersonly=True)
        with self.lock:
            self.messages.append((headers["Message-ID"], tuple(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def duplicates(self) -> int:
        counts = Counter(message_id for message_id, _ in self.messages)
        return sum(count - 1 for count in counts.values())


@contextlib.contextmanager
def redis_server():
    """A Redis of this run's own: SIGSTOP makes it hang without refusing connections."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def process(command, env, log_name):
    log = (OUTPUT_DIR / log_name).open("w")
    child = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
    try:
        yield child
    finally:
        stop(child, timeout=30)
        log.close()


def wait_for(condition, seconds: float, step: float = 0.2, action=None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if action is not None:
            action()
        if condition():
            return True
        time.sleep(step)
    return condition()


def restart_postgresql() -> str:
    versions = sorted(os.path.basename(path) for path in glob.glob("/etc/postgresql/*"))
    if not versions or not shutil.which("pg_ctlcluster"):
        return "pg_ctlcluster absent"
    result = subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            versions[-1],
            "main",
            "restart",
            "-m",
            "fast",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stderr.strip() or "redémarré"


def can_restart_postgresql() -> bool:
    return bool(glob.glob("/etc/postgresql/*")) and shutil.which("pg_ctlcluster") is not None


# --- Set-up --------------------------------------------------------------------------------


@dataclass
class Setup:
    call_id: int
    candidates: list[tuple[int, str]]  # (dossier id, session key)


def cleanup() -> None:
    calls = list(Call.objects.filter(reference=REFERENCE))
    accounts = User.objects.filter(
        email__startswith="echeance-", email__endswith=data.CANDIDATE_DOMAIN
    )
    with transaction.atomic():
        forget_receipts(Receipt.objects.filter(call__in=calls))
        Candidature.objects.filter(call__in=calls).delete()
        Call.objects.filter(pk__in=[call.pk for call in calls]).delete()
        Organisation.objects.filter(memberships__user__in=accounts).delete()
        accounts.delete()


def prepare(count: int) -> Setup:
    """A published call with one lot question and one PDF piece, ``count`` complete
    dossiers, one account and one session each."""
    cleanup()
    now = timezone.now()
    programme, _ = Programme.objects.get_or_create(
        short_name=seed.PROGRAMME["short_name"], defaults=seed.PROGRAMME
    )
    deadline = now + dt.timedelta(days=1)
    fields = {k: v for k, v in seed.call_fields(CallDates(deadline)).items() if k != "title"}
    call = Call.objects.create(
        programme=programme,
        reference=REFERENCE,
        slug=SLUG,
        title="Dépôt de dernière seconde (bench)",
        opens_at=now - dt.timedelta(days=30),
        deadline=deadline,
        **{**fields, "paper_copy_required": False},
    )
    # Its structure while it is a draft (the models refuse it later), then published.
    lot = Lot.objects.create(call=call, position=1, name="Nord Isère", fte="0.5")
    lots_question = Question.objects.create(
        call=call, position=1, label="Lots sollicités", kind="lots"
    )
    required = RequiredDocument.objects.create(
        call=call, position=1, label="Dossier de demande de financement", allowed_formats=["pdf"]
    )
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.PUBLISHED, published_at=now - dt.timedelta(days=30)
    )
    call.refresh_from_db()
    group = Group.objects.get(name=Role.CANDIDAT)
    candidates = []
    for index in range(count):
        user = User.objects.create_user(
            email=f"echeance-{index:04d}@{data.CANDIDATE_DOMAIN}",
            password=None,
            email_verified_at=now,
        )
        user.groups.add(group)
        organisation = Organisation.objects.create(
            name=f"Structure de dernière seconde n° {index}",
            kind=OrganisationKind.EPCI,
            siret=data.siret(SIRET_PREFIX, index),
            address="7 rue Fantin-Latour",
            postal_code="38000",
            city="Grenoble",
            legal_representative_name="Camille Martin",
            legal_representative_role="Présidente",
            legal_representative_email=user.email,
            created_by=user,
        )
        Membership.objects.create(organisation=organisation, user=user)
        dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=user)
        services.save_answers(dossier, by=user, values={lots_question.pk: [lot.pk]})
        services.add_document(
            dossier,
            required,
            by=user,
            uploaded=SimpleUploadedFile("dossier.pdf", PDF, content_type="application/pdf"),
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        candidates.append((dossier.pk, session.session_key))
    return Setup(call.pk, candidates)


# --- A run ---------------------------------------------------------------------------------


@dataclass
class Click:
    dossier_id: int
    at: float  # epoch seconds of the click
    late: bool
    status: int = 0
    receipt: str = ""
    refused_late: bool = False
    seconds: float = 0.0
    error: str = ""


@dataclass
class RunResult:
    fault: str
    gunicorn: str
    clicks: list[Click] = field(default_factory=list)
    fault_note: str = ""
    verification: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        on_time = [c for c in self.clicks if not c.late]
        late = [c for c in self.clicks if c.late]
        latencies = [c.seconds for c in self.clicks if c.status]
        statuses = Counter(c.status or c.error for c in self.clicks)
        return {
            "fault": self.fault,
            "fault_note": self.fault_note,
            "gunicorn": self.gunicorn,
            "attempted": len(on_time),
            "attempted_late": len(late),
            "accepted": self.verification.get("accepted_on_time", 0),
            "refused_although_on_time": sum(c.refused_late for c in on_time),
            "unanswered_on_time": sum(1 for c in on_time if not c.receipt and not c.refused_late),
            "accepted_although_late": self.verification.get("accepted_late", 0),
            "lost": self.verification.get("lost", 0),
            "duplicate_receipt_emails": self.verification.get("duplicate_emails", 0),
            "answers": {str(key): value for key, value in statuses.items()},
            "p50_ms": round(percentile_ms(latencies, 50), 1),
            "p95_ms": round(percentile_ms(latencies, 95), 1),
            "p99_ms": round(percentile_ms(latencies, 99), 1),
            "max_ms": round(max(latencies, default=0) * 1000, 1),
            "verification": self.verification,
        }


def _csrf(port: int, path: str, session: str) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        cookie = next(
            value.split(";", 1)[0]
            for name, value in response.getheaders()
            if name.lower() == "set-cookie" and value.startswith("csrftoken=")
        )
        return token, cookie
    finally:
        connection.close()


def _click(port: int, click: Click, path: str, session: str, token: str, csrf_cookie: str):
    time.sleep(max(0.0, click.at - time.time()))
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    try:
        connection.request(
            "POST",
            path,
            body=f"csrfmiddlewaretoken={token}&certified=on",
            headers={
                "Cookie": f"sessionid={session}; {csrf_cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        click.status = response.status
        if found := RECEIPT.search(body):
            click.receipt = found.group(1)
        click.refused_late = response.status == 409 and LATE in body
    except Exception as error:  # a network error is this click's answer
        click.error = type(error).__name__
    finally:
        click.seconds = time.perf_counter() - began
        connection.close()


def run(
    setup: Setup, fault: str, environment: dict[str, str], *, seed_value: int = 2024
) -> RunResult:
    """One rush to a deadline ``LEAD`` seconds ahead, with ``fault`` injected."""
    rng = random.Random(seed_value)
    reset(setup)
    sink = Sink()
    sink.controller.start()
    with redis_server() as (redis_process, broker_url):
        env = {
            **os.environ,
            **environment,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "ARRIVAL_TRUSTED_PROXIES": "127.0.0.1",
            "EMAIL_PENDING_GRACE_SECONDS": "0",
            "GUNICORN_ACCESS_LOG": "",
            "LOG_LEVEL": "WARNING",
        }
        gunicorn_port = free_port()
        env["GUNICORN_BIND"] = f"127.0.0.1:{gunicorn_port}"
        gunicorn_command = [sys.executable, "-m", "gunicorn", "config.wsgi"]
        worker_command = [
            *(sys.executable, "-m", "celery", "-A", "config", "worker"),
            *("--pool=solo", "--loglevel=WARNING", "--without-mingle", "--without-gossip"),
        ]
        with (
            process(gunicorn_command, env, f"deadline-{fault}-gunicorn.log"),
            process(worker_command, env, f"deadline-{fault}-worker.log"),
            nginx_proxy(f"127.0.0.1:{gunicorn_port}", connections=4096, port=free_port()) as port,
        ):
            if not wait_for(lambda: server.answers(port, "/healthz"), 60):
                raise RuntimeError(f"gunicorn ne répond pas ; voir {OUTPUT_DIR}")
            result = RunResult(fault, _gunicorn_shape(env))
            _rush(setup, port, rng, result, redis_process, fault)
            # Everything answered: the faults end, the outbox sends what waits.
            with contextlib.suppress(ProcessLookupError):
                os.kill(redis_process.pid, signal.SIGCONT)
            connections.close_all()
            receipts = Receipt.objects.filter(call_id=setup.call_id)
            # As beat does every 15 s: the e-mails that wait, and lost claims, are queued.
            wait_for(
                lambda: _all_sent(receipts), 120, step=5, action=lambda: _send_waiting(broker_url)
            )
            result.verification = verify(setup, result, sink)
    sink.controller.stop()
    return result


def _rush(setup, port, rng, result, redis_process, fault):
    deadline_epoch = float(int(time.time() + LEAD))
    deadline = dt.datetime.fromtimestamp(deadline_epoch, tz=dt.UTC)
    Call.objects.filter(pk=setup.call_id).update(deadline=deadline)
    connections.close_all()
    late_count = max(1, int(len(setup.candidates) * LATE_SHARE))
    plans = []
    for index, (dossier_id, session) in enumerate(setup.candidates):
        late = index < late_count
        # The whole second of the deadline is on time (aap.deadlines): late is one after.
        at = (
            deadline_epoch + rng.uniform(1.05, 2.0)
            if late
            else deadline_epoch - rng.uniform(0.05, SPREAD)
        )
        plans.append((Click(dossier_id, at, late), session))
    # Each candidate has the page open, with its form's token, before the rush.
    tokens = {}
    lock = threading.Lock()

    def fetch(dossier_id, session):
        token = _csrf(port, reverse("candidatures:submit", args=[dossier_id]), session)
        with lock:
            tokens[dossier_id] = token

    with _pool(8) as submit:
        for click, session in plans:
            submit(fetch, click.dossier_id, session)
    if time.time() > deadline_epoch - SPREAD - 2:
        raise RuntimeError("préparation trop lente pour le délai du bench (LEAD)")
    threads = []
    for click, session in plans:
        token, cookie = tokens[click.dossier_id]
        path = reverse("candidatures:submit", args=[click.dossier_id])
        thread = threading.Thread(target=_click, args=(port, click, path, session, token, cookie))
        thread.start()
        threads.append(thread)
        result.clicks.append(click)
    if fault == "redis":
        time.sleep(max(0.0, deadline_epoch - 6 - time.time()))
        os.kill(redis_process.pid, signal.SIGSTOP)
        result.fault_note = "Redis suspendu (SIGSTOP) à H-6 s"
    elif fault == "postgres":
        time.sleep(max(0.0, deadline_epoch - 3 - time.time()))
        began = time.monotonic()
        note = restart_postgresql()
        result.fault_note = (
            f"PostgreSQL redémarré à H-3 s en {time.monotonic() - began:.1f} s ({note})"
        )
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def _pool(size):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(size) as executor:
        futures = []
        yield lambda fn, *args: futures.append(executor.submit(fn, *args))
        for future in futures:
            future.result()


def _gunicorn_shape(env) -> str:
    from importlib.machinery import SourceFileLoader

    previous = {key: os.environ.get(key) for key in ("GUNICORN_WORKERS", "GUNICORN_THREADS")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("GUNICORN_")})
    try:
        config = SourceFileLoader("gunicorn_conf", str(BASE_DIR / "gunicorn.conf.py")).load_module()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return f"{config.workers} workers {config.worker_class} × {config.threads} threads"


def _send_waiting(broker_url: str) -> None:
    """What the worker's beat would do every 15 s: queue the e-mails that wait."""
    from config.celery import app

    with app.connection_for_write(broker_url) as connection:
        app.send_task("aap.requeue_pending_emails", connection=connection)


def _all_sent(receipts) -> bool:
    keys = [f"receipt-{pk}" for pk in receipts.values_list("pk", flat=True)]
    return not OutgoingEmail.objects.filter(key__in=keys).exclude(status="sent").exists()


def reset(setup: Setup) -> None:
    """Every dossier a draft again, no receipt: the next run starts as the first."""
    with transaction.atomic():
        forget_receipts(Receipt.objects.filter(call_id=setup.call_id))
        Candidature.objects.filter(call_id=setup.call_id).update(status="draft", submitted_at=None)
        Call.objects.filter(pk=setup.call_id).update(status=CallStatus.PUBLISHED)


def verify(setup: Setup, result: RunResult, sink: Sink) -> dict:
    deadline = Call.objects.values_list("deadline", flat=True).get(pk=setup.call_id)
    receipts = {r.candidature_id: r for r in Receipt.objects.filter(call_id=setup.call_id)}
    late_ids = {c.dossier_id for c in result.clicks if c.late}
    promised = {c.receipt for c in result.clicks if c.receipt}
    numbers = {r.number for r in receipts.values()}
    emails = dict(
        OutgoingEmail.objects.filter(
            key__in=[f"receipt-{r.pk}" for r in receipts.values()]
        ).values_list("key", "status")
    )
    unsent = [key for key, status in emails.items() if status != "sent"]
    received = {recipient for _, recipients in sink.messages for recipient in recipients}
    members = dict(
        Membership.objects.filter(organisation__candidatures__in=receipts).values_list(
            "organisation__candidatures", "user__email"
        )
    )
    never_received = [pk for pk in receipts if members.get(pk) not in received]
    return {
        "deadline": deadline.isoformat(),
        "receipts": len(receipts),
        "accepted_on_time": sum(1 for pk in receipts if pk not in late_ids),
        "accepted_late": sum(1 for pk in receipts if pk in late_ids),
        "receipts_after_the_deadline": sum(
            1 for r in receipts.values() if r.submitted_at > deadline
        ),
        "promised_not_stored": len(promised - numbers),
        "emails_unsent": len(unsent),
        "emails_never_received": len(never_received),
        "lost": len(promised - numbers) + len(never_received),
        "messages_received": len(sink.messages),
        "duplicate_emails": sink.duplicates(),
    }


def available() -> str:
    """Why the scenario cannot run here, or an empty string."""
    if find_nginx() is None:
        return "nginx absent (make test installe nginx-light)"
    if shutil.which("redis-server") is None:
        return "redis-server absent"
    return ""
