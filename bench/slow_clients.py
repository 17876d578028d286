"""Slow clients: uploads that trickle in, and the page everyone else reads meanwhile.

``clients`` candidates (20) each start sending a 10 MB PDF to a piece of their dossier, in
a multipart body, at about 10 kB/s, as a poor line or an attacker would (three clients at
100 bytes/s once stalled the site for 30 s). At that pace a body takes about 17 minutes:
none completes during the run, which is the point. Once they have all started, ``readers``
(4) fetch the public page of the call one request after the other for ``seconds`` (20 s);
the slow clients keep sending until the last reader has its answer, then they are closed.

Twice, on the same gunicorn (a plain ``gunicorn config.wsgi``: gunicorn.conf.py's worker
class and count): through nginx with deploy/nginx/ (tests/nginx.py), which reads every
body whole before it hands it on, then straight to gunicorn, whose sync workers read one
body each. Figures: the readers' p50/p95/p99/max latency (a failed request counts with the
time it took to fail) and errors, what the slow clients sent, and the uploads gunicorn's
access log shows. Through nginx the readers' p95 must stay under one second, with no error.
"""

import contextlib
import datetime as dt
import http.client
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, OrganisationKind, Programme, RequiredDocument
from aap.states import CallStatus
from bench import data, files, server
from bench.browser import Browser
from bench.env import BASE_DIR, OUTPUT_DIR
from bench.load import percentile_ms
from bench.server import free_port
from candidatures.models import Candidature, Document, Membership, Organisation
from core.models import User
from core.roles import Role
from demo import loader, seed
from demo.dates import CallDates
from tests.nginx import find_nginx, nginx_proxy
from tests.processes import stop

REFERENCE = "AAP-BENCH-LENTS"
SLUG = "aap-bench-envois-lents"
EMAIL_PREFIX = "lent-"
SIRET_PREFIX = 4  # data uses 9, the rush 8, the ranking 6, the sweep 5
PIECE = 2  # the attestation of the demo call: PDF only
PIECE_MAX_MB = 20
BODY_BYTES = 10_000_000
RATE = 10_000  # bytes per second, each slow client
TICK = 0.1  # a slow client sends RATE × TICK bytes every TICK seconds
RAMP = 2.0  # seconds between the slow clients' start and the readers'
READER_TIMEOUT = 10.0
P95_LIMIT_MS = 1000.0  # through nginx
HEADERS = {"Accept": "text/html", "User-Agent": "aap-bench"}


# --- Set-up and clean-up -------------------------------------------------------------------


@dataclass
class Setup:
    call_path: str  # the public page of the call
    candidates: list[tuple[str, str]]  # (session cookie, upload path)
    documents_paths: list[str]  # each candidate's documents page (its CSRF token)


def cleanup() -> None:
    calls = list(Call.objects.filter(reference=REFERENCE))
    accounts = User.objects.filter(
        email__startswith=EMAIL_PREFIX, email__endswith=data.CANDIDATE_DOMAIN
    )
    with transaction.atomic():
        Candidature.objects.filter(call__in=calls).delete()
        for required in RequiredDocument.objects.filter(call__in=calls).exclude(template=""):
            default_storage.delete(required.template.name)
        Call.objects.filter(pk__in=[call.pk for call in calls]).delete()
        Organisation.objects.filter(memberships__user__in=accounts).delete()
        accounts.delete()


def prepare(count: int) -> Setup:
    """The demo call's copy, open until tomorrow, and ``count`` candidates, each with a
    draft dossier and a session."""
    cleanup()
    now = timezone.now()
    deadline = (now + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    programme, _ = Programme.objects.get_or_create(
        short_name=seed.PROGRAMME["short_name"], defaults=seed.PROGRAMME
    )
    with transaction.atomic():
        call = loader._create_call(
            programme,
            reference=REFERENCE,
            slug=SLUG,
            title=f"{seed.CALL['title']} (bench : envois lents)",
            opens_at=now - dt.timedelta(days=30),
            deadline=deadline,
            is_demo=False,
            dates=CallDates(deadline),
        )
        loader._add_structure(call, dates=CallDates(deadline))
        Call.objects.filter(pk=call.pk).update(
            status=CallStatus.PUBLISHED,
            published_at=now - dt.timedelta(days=31),
            max_dossier_size_mb=PIECE_MAX_MB + 40,
        )
        required = list(call.required_documents.order_by("position"))[PIECE]
        RequiredDocument.objects.filter(pk=required.pk).update(max_size_mb=PIECE_MAX_MB)
        group = Group.objects.get(name=Role.CANDIDAT)
        candidates, documents = [], []
        for index in range(count):
            user = User.objects.create_user(
                email=f"{EMAIL_PREFIX}{index:03d}@{data.CANDIDATE_DOMAIN}",
                password=None,
                email_verified_at=now,
            )
            user.groups.add(group)
            organisation = Organisation.objects.create(
                name=f"Structure au débit lent n° {index}",
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
            dossier = Candidature.objects.create(
                call=call, organisation=organisation, created_by=user
            )
            upload = reverse("candidatures:upload", args=[dossier.pk, required.pk])
            candidates.append((data.session_cookie(user), upload))
            documents.append(reverse("candidatures:documents", args=[dossier.pk]))
    return Setup(reverse("aap:call_detail", args=[SLUG]), candidates, documents)


# --- The clients ---------------------------------------------------------------------------


class SlowUpload(threading.Thread):
    """One candidate's upload, its headers and the start of its multipart body at once,
    then ``RATE`` bytes a second until ``stop`` is set (or the body is all sent)."""

    def __init__(self, port: int, path: str, cookies: str, token: str, content, stop):
        super().__init__(daemon=True)
        boundary = f"aap-bench-{uuid.uuid4().hex}"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="Attestation.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: aap-bench\r\n"
            f"Cookie: {cookies}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(head) + len(content) + len(tail)}\r\n\r\n"
        ).encode()
        self.port, self.stop = port, stop
        self.parts = [memoryview(request + head), memoryview(content), memoryview(tail)]
        self.total = sum(len(part) for part in self.parts)
        self.burst = len(self.parts[0])  # what a browser sends before the file's bytes
        self.sent = 0
        self.error = ""

    def _slice(self, start: int, end: int) -> bytes:
        out, offset = [], 0
        for part in self.parts:
            low, high = max(start, offset), min(end, offset + len(part))
            if low < high:
                out.append(part[low - offset : high - offset])
            offset += len(part)
        return b"".join(out)

    def run(self) -> None:
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError as error:
            self.error = type(error).__name__
            return
        # A send that cannot go on (the server reads nothing, its buffers are full) waits
        # for the next tick rather than past the end of the run.
        connection.settimeout(TICK)
        began = time.perf_counter()
        try:
            while not self.stop.is_set() and self.sent < self.total:
                due = min(self.total, self.burst + int(RATE * (time.perf_counter() - began)))
                if due > self.sent:
                    with contextlib.suppress(TimeoutError):
                        self.sent += connection.send(self._slice(self.sent, due))
                self.stop.wait(TICK)
        except OSError as error:  # the server closed or reset the connection
            self.error = type(error).__name__
        finally:
            connection.close()


@dataclass
class Readers:
    latencies: list[float] = field(default_factory=list)  # every request, failed ones too
    answers: Counter = field(default_factory=Counter)  # status, or the exception's name
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, port: int, path: str, until: float) -> None:
        while time.perf_counter() < until:
            began = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=READER_TIMEOUT)
            try:
                connection.request("GET", path, headers=HEADERS)
                response = connection.getresponse()
                response.read()
                answer = response.status
            except OSError as error:
                answer = type(error).__name__
            finally:
                connection.close()
            with self.lock:
                self.latencies.append(time.perf_counter() - began)
                self.answers[answer] += 1

    @property
    def errors(self) -> int:
        return sum(count for answer, count in self.answers.items() if answer != 200)


# --- A run ---------------------------------------------------------------------------------


def gunicorn_shape() -> str:
    config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    return f"{config['workers']} workers {config['worker_class']}, timeout {config['timeout']} s"


@contextlib.contextmanager
def gunicorn(environment: dict[str, str], access_log):
    """A plain ``gunicorn config.wsgi``: every setting but the address is gunicorn.conf.py's."""
    port = free_port()
    env = {
        **os.environ,
        **environment,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": str(access_log),
        "ARRIVAL_TRUSTED_PROXIES": "127.0.0.1",
    }
    access_log.unlink(missing_ok=True)
    with (OUTPUT_DIR / "slow-clients-gunicorn.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while not server.answers(port, "/healthz"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn ne répond pas ; voir {log.name}")
                time.sleep(0.2)
            yield port
        finally:
            stop(process, timeout=30)


def _uploads_in(access_log) -> int:
    """The uploads gunicorn answered: its access log, one line per answer."""
    if not access_log.is_file():
        return 0
    return sum('"POST ' in line for line in access_log.read_text().splitlines())


def run(
    setup: Setup, environment: dict[str, str], *, through_nginx: bool, readers: int, seconds: float
) -> dict:
    access_log = OUTPUT_DIR / "slow-clients-access.log"
    content = files.padded_pdf(BODY_BYTES)
    connections.close_all()
    with gunicorn(environment, access_log) as gunicorn_port:
        proxy = (
            nginx_proxy(f"127.0.0.1:{gunicorn_port}", port=free_port()) if through_nginx else None
        )
        with proxy or contextlib.nullcontext(gunicorn_port) as port:
            # Every worker has its code and templates loaded, as on a server that has run a
            # while; each candidate's documents page gives the CSRF token its upload carries.
            warm = Readers()
            warm.read(port, setup.call_path, time.perf_counter() + 2)
            tokens = []
            for (cookie, _upload), documents in zip(
                setup.candidates, setup.documents_paths, strict=True
            ):
                browser = Browser("127.0.0.1", port, timeout=30)
                name, _, value = cookie.partition("=")
                browser.cookies[name] = value
                tokens.append((browser.get(documents).csrf_token(), browser.cookies))
            stop_event = threading.Event()
            slow = [
                SlowUpload(
                    port,
                    upload,
                    "; ".join(f"{name}={value}" for name, value in cookies.items()),
                    token,
                    content,
                    stop_event,
                )
                for (_cookie, upload), (token, cookies) in zip(
                    setup.candidates, tokens, strict=True
                )
            ]
            for client in slow:
                client.start()
            time.sleep(RAMP)
            measured = Readers()
            began = time.perf_counter()
            threads = [
                threading.Thread(
                    target=measured.read, args=(port, setup.call_path, began + seconds)
                )
                for _ in range(readers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
            cut_off = sum(1 for client in slow if client.error or not client.is_alive())
            stop_event.set()
            for client in slow:
                client.join()
        # gunicorn is still up: what the workers saw of the uploads, once they were closed.
        time.sleep(1)
        uploads = _uploads_in(access_log)
    stored = Document.objects.filter(candidature__call__reference=REFERENCE).count()
    sent = sum(client.sent for client in slow)
    return {
        "route": "nginx" if through_nginx else "gunicorn",
        "seconds": round(elapsed, 1),
        "readers": readers,
        "requests": len(measured.latencies),
        "answered_200": measured.answers.get(200, 0),
        "errors": measured.errors,
        "answers": {str(key): value for key, value in measured.answers.items()},
        "p50_ms": round(percentile_ms(measured.latencies, 50), 1),
        "p95_ms": round(percentile_ms(measured.latencies, 95), 1),
        "p99_ms": round(percentile_ms(measured.latencies, 99), 1),
        "max_ms": round(max(measured.latencies, default=0) * 1000, 1),
        "slow_clients": len(slow),
        "slow_clients_cut_off": cut_off,
        "slow_errors": dict(Counter(client.error for client in slow if client.error)),
        "slow_bytes_sent": sent,
        "slow_rate_bytes_per_second": round(sent / len(slow) / (elapsed + RAMP)) if slow else 0,
        "uploads_answered_by_gunicorn": uploads,
        # None of the bodies was whole: nothing may be stored.
        "documents_stored": stored,
    }


def available() -> str:
    """Why the scenario cannot run here, or ""."""
    return "" if find_nginx() else "nginx absent (make test installe nginx-light)"


def scenario(environment: dict[str, str], *, clients: int, readers: int, seconds: float) -> dict:
    setup = prepare(clients)
    try:
        runs = [
            run(setup, environment, through_nginx=through, readers=readers, seconds=seconds)
            for through in (True, False)
        ]
    finally:
        connections.close_all()
        cleanup()
    return {
        "gunicorn": gunicorn_shape(),
        "clients": clients,
        "body_bytes": BODY_BYTES,
        "rate_bytes_per_second": RATE,
        "readers": readers,
        "window_seconds": seconds,
        "reader_timeout_seconds": READER_TIMEOUT,
        "p95_limit_ms": P95_LIMIT_MS,
        "runs": runs,
    }


def failures(figures: dict) -> list[str]:
    """What makes the bench fail: the run through nginx only (straight to gunicorn, the
    figures show what nginx is for)."""
    problems = []
    for run_figures in figures["runs"]:
        if run_figures["documents_stored"]:
            problems.append(
                f"{run_figures['route']} : {run_figures['documents_stored']} envoi(s) incomplet(s) "
                "enregistré(s)"
            )
        if run_figures["route"] != "nginx":
            continue
        if not run_figures["answered_200"] or run_figures["errors"]:
            problems.append(f"via nginx : {run_figures['errors']} erreur(s) des lecteurs")
        if not run_figures["p95_ms"] < figures["p95_limit_ms"]:
            problems.append(
                f"via nginx : p95 {run_figures['p95_ms']:.0f} ms ≥ {figures['p95_limit_ms']:.0f} ms"
            )
        if run_figures["slow_clients_cut_off"]:
            problems.append(
                f"via nginx : {run_figures['slow_clients_cut_off']} envoi(s) lent(s) coupé(s) "
                "avant la fin : la mesure ne tient pas"
            )
        if run_figures["uploads_answered_by_gunicorn"]:
            problems.append("via nginx : gunicorn a reçu des envois incomplets")
    return problems
