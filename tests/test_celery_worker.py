"""The task path through a real Celery worker on Redis and a real SMTP server.

The worker is a separate process on the test database; messages go to an aiosmtpd server
in this process, which can refuse, slow down or count what it receives. Nothing here is
mocked: a duplicate or a lost message would show in the server's mailbox.
"""

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email.parser import BytesParser
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.mail import queue_email, requeue_pending_emails
from core.models import EmailStatus, OutgoingEmail
from core.tasks import requeue_pending_emails as requeue_pending_emails_task
from tests.celery_utils import broker_url, eager

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

# This run's own broker (tests/environment.py): another run with another URL shares no queue.
BROKER = settings.CELERY_BROKER_URL
BASE_DIR = Path(settings.BASE_DIR)


class Mailbox:
    """An SMTP server's handler: it may refuse the next messages, answer slowly before
    DATA, or hold its answer to QUIT once it has accepted a message."""

    def __init__(self):
        self.received: list[str] = []
        self.message_ids: list[str] = []
        self.refuse_next = 0
        self.refused = 0
        self.delay = 0.0
        self.quit_delay = 0.0
        self.lock = threading.Lock()

    async def handle_QUIT(self, server, session, envelope):
        if self.quit_delay:
            await asyncio.sleep(self.quit_delay)  # after DATA: the message is accepted
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)  # before DATA: a worker killed here sends nothing
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse_next:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Serveur occupé, réessayez plus tard"
            self.received.extend(envelope.rcpt_tos)
            headers = BytesParser().parsebytes(envelope.original_content, headersonly=True)
            self.message_ids.append(headers["Message-ID"])
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox():
    handler = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks it by connecting to it)
        probe.bind(("127.0.0.1", 0))
        handler.port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def broker():
    assert BROKER.startswith("redis://"), f"These tests need a Redis broker, not {BROKER}"
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    with eager(False), broker_url(BROKER):
        yield
    client.flushdb()


class Worker:
    def __init__(self, env, log: Path):
        self.env, self.log, self.process, self.count = env, log, None, 0

    def start(self):
        self.count += 1
        self.handle = self.log.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-n",
                f"test{self.count}-{os.getpid()}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"The Celery worker did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.write_text(self.log.read_text().replace(" ready.", " was ready."))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.handle.close()


@pytest.fixture
def worker(mailbox, broker, tmp_path):
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{mailbox.port}",
        "EMAIL_RETRY_BACKOFF_SECONDS": "1",
        # The sweep run by the worker takes back what waited for the broker at once.
        "EMAIL_PENDING_GRACE_SECONDS": "0",
        "PYTHONPATH": str(BASE_DIR),
    }
    process = Worker(env, tmp_path / "worker.log")
    yield process
    process.stop()


def wait_until(condition, *, seconds=60, step=0.2, action=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if action:
            action()
        time.sleep(step)
    return False


def queue(n, prefix):
    emails = []
    for index in range(n):
        emails.append(
            queue_email(
                to=f"{prefix}{index}@exemple.test",
                template="question_answered",
                context={"call": None, "question": None},
                key=f"{prefix}-{index}",
            )
        )
    return emails


def all_sent():
    return not OutgoingEmail.objects.exclude(status=EmailStatus.SENT).exists()


def test_a_mail_server_that_refuses_then_accepts_delays_without_loss(worker, mailbox):
    mailbox.refuse_next = 3
    worker.start()
    queue(4, "refus")
    assert wait_until(all_sent, seconds=90), worker.log.read_text()[-3000:]
    assert mailbox.refused == 3
    assert Counter(mailbox.received) == {f"refus{i}@exemple.test": 1 for i in range(4)}
    assert sum(OutgoingEmail.objects.values_list("attempts", flat=True)) == 4 + 3


def test_a_worker_killed_before_the_server_accepts_loses_nothing_and_sends_each_once(
    worker, mailbox
):
    """Killed while the mail server has not accepted the message yet (before DATA), the
    worker leaves claims that are sent again, once. Killed after it accepted, a message
    goes out twice: see the next test."""
    mailbox.delay = 0.25
    worker.start()
    queue(20, "lot")
    assert wait_until(lambda: len(mailbox.received) >= 5, seconds=60), worker.log.read_text()[
        -3000:
    ]
    worker.kill()
    in_flight = OutgoingEmail.objects.filter(status=EmailStatus.SENDING).count()
    worker.start()
    # Beat's sweep takes back claims left by the dead worker and queues what waits.
    later = timezone.now() + dt.timedelta(hours=1)
    assert wait_until(
        all_sent, seconds=120, step=1, action=lambda: requeue_pending_emails(now=later)
    ), worker.log.read_text()[-3000:]
    assert Counter(mailbox.received) == {f"lot{i}@exemple.test": 1 for i in range(20)}
    assert in_flight <= 1


def test_a_worker_killed_after_the_server_accepted_sends_a_copy_with_the_same_message_id(
    worker, mailbox, settings
):
    """At least once: the server accepted the message, then the worker died before
    marking it sent. When the claim's lease runs out, the sweep sends it again, with the
    same Message-ID."""
    from core.mail import message_id

    settings.EMAIL_STALE_CLAIM_SECONDS = 2
    mailbox.quit_delay = 30  # the worker waits for the answer to QUIT, after DATA
    worker.start()
    [email] = queue(1, "double")
    assert wait_until(lambda: mailbox.received, seconds=60), worker.log.read_text()[-3000:]
    worker.kill()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENDING

    mailbox.quit_delay = 0
    worker.start()
    assert requeue_pending_emails() == 0  # the lease still runs
    later = timezone.now() + dt.timedelta(seconds=3)
    assert requeue_pending_emails(now=later) == 1
    assert wait_until(all_sent, seconds=60), worker.log.read_text()[-3000:]
    assert mailbox.received == ["double0@exemple.test"] * 2
    assert mailbox.message_ids == [message_id(email)] * 2


def test_a_slow_living_worker_keeps_its_claim_and_sends_once(worker, mailbox, settings):
    """The lease is short, but a worker renews it while it sends: a slow mail server does
    not make the sweep take a living worker for a dead one."""
    settings.EMAIL_STALE_CLAIM_SECONDS = 1
    worker.env["EMAIL_STALE_CLAIM_SECONDS"] = "1"
    mailbox.delay = 3  # the server takes three leases to answer
    worker.start()
    queue(1, "lent")
    swept = []
    assert wait_until(
        lambda: mailbox.received and all_sent(),
        seconds=60,
        step=0.25,
        action=lambda: swept.append(requeue_pending_emails()),
    ), worker.log.read_text()[-3000:]
    time.sleep(1)  # a copy would arrive now
    assert mailbox.received == ["lent0@exemple.test"]
    assert sum(swept) == 0


def test_a_dead_claim_is_sent_again_within_a_minute_by_default():
    lease = settings.EMAIL_STALE_CLAIM_SECONDS
    sweep = settings.CELERY_BEAT_SCHEDULE["requeue-pending-emails"]["schedule"]
    assert lease + sweep <= 60
    assert settings.CELERY_BEAT_SCHEDULE["requeue-pending-emails"]["options"]["expires"] < sweep


def test_database_errors_in_the_e_mail_task_are_retried_with_backoff():
    from django.db import InterfaceError, OperationalError

    from core.tasks import send_email

    assert {OperationalError, InterfaceError} <= set(send_email.autoretry_for)
    assert send_email.retry_backoff and send_email.max_retries >= 5


def test_the_reminder_sweep_runs_in_the_worker_and_sends_each_reminder_once(worker, mailbox):
    from candidatures.models import Candidature
    from core.tasks import run_reminders
    from tests.factories import CallFactory, OrganisationFactory, UserFactory, add_structure

    # A deadline six days and a half ahead: the "7 days before" milestone has passed.
    call = add_structure(CallFactory(deadline=timezone.now() + dt.timedelta(days=6, hours=12)))
    members = [UserFactory(roles=["candidat"]) for _ in range(3)]
    Candidature.objects.create(call=call, organisation=OrganisationFactory(members=members))
    worker.start()
    run_reminders.delay()
    run_reminders.delay()
    assert wait_until(lambda: len(mailbox.received) >= 3 and all_sent(), seconds=60), (
        worker.log.read_text()[-3000:]
    )
    time.sleep(1)  # a duplicate would arrive now
    assert Counter(mailbox.received) == {member.email: 1 for member in members}


class HangingBroker:
    """A server that accepts connections and never answers: the worst broker failure.
    ``len()`` counts the connections it accepted; ``stop()`` closes it."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        self.accepted = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped.is_set():
            try:
                self.accepted.append(self.server.accept()[0])
            except TimeoutError:
                continue

    def __len__(self):
        return len(self.accepted)

    def stop(self):
        if not self.stopped.is_set():
            self.stopped.set()
            self.thread.join()
            for connection_ in self.accepted:
                connection_.close()
            self.server.close()


@pytest.fixture
def hanging_broker():
    broker_ = HangingBroker()
    with eager(False), broker_url(broker_.url):
        yield broker_
    broker_.stop()


def _complete_dossier():
    from candidatures.models import Candidature
    from tests.candidatures.conftest import fill
    from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

    member = UserFactory(roles=["candidat"])
    dossier = Candidature.objects.create(
        call=dossier_ready_call(), organisation=OrganisationFactory(members=[member])
    )
    return fill(dossier, member), member


def test_a_hanging_broker_holds_a_submission_one_bounded_timeout_and_the_receipt_goes_out_later(
    worker, mailbox, hanging_broker, client, settings
):
    # The worker's broker (Redis) is set up first; the hanging one replaces it until the
    # broker "answers again".
    from core.mail import publishing_connection

    # The bound is a setting, well under a second, applied to connecting and to reading,
    # with no retry.
    assert settings.EMAIL_PUBLISH_TIMEOUT <= 0.5
    with publishing_connection() as connection:
        options = connection.transport_options
        assert options["socket_timeout"] == settings.EMAIL_PUBLISH_TIMEOUT
        assert options["socket_connect_timeout"] == settings.EMAIL_PUBLISH_TIMEOUT
        assert options["max_retries"] == 0
        assert connection.connect_timeout == settings.EMAIL_PUBLISH_TIMEOUT

    first, first_member = _complete_dossier()
    client.force_login(first_member)
    response = client.post(reverse("candidatures:submit", args=[first.pk]), {"certified": "on"})
    assert response.status_code == 200
    tried = len(hanging_broker)
    assert tried >= 1  # it did try the broker, once

    # While the broker is paused for this process, the next submissions do not wait on it.
    second, second_member = _complete_dossier()
    client.force_login(second_member)
    response = client.post(reverse("candidatures:submit", args=[second.pk]), {"certified": "on"})
    assert response.status_code == 200
    assert len(hanging_broker) == tried
    receipts = OutgoingEmail.objects.filter(key__startswith="receipt-")
    assert list(receipts.values_list("status", flat=True)) == [EmailStatus.PENDING] * 2

    # The broker answers again: the outbox sweep, run by the worker, sends both, once.
    hanging_broker.stop()
    with broker_url(BROKER):
        worker.start()
        requeue_pending_emails_task.delay()
        assert wait_until(all_sent, seconds=60), worker.log.read_text()[-3000:]
    assert Counter(mailbox.received) == {first_member.email: 1, second_member.email: 1}
