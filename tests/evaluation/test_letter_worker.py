"""The letters through a real Celery worker on Redis and a real SMTP server: confirming
the notification in this process only queues them; the worker renders each PDF, stores it
with its SHA-256 and e-mails it through the outbox, once (see tests/test_celery_worker.py
for the worker, the broker and the mailbox)."""

import hashlib

import pytest

from core.mail import message_id
from core.models import EmailStatus, OutgoingEmail
from evaluation.letters import notify_decisions
from evaluation.models import NotificationLetter
from evaluation.states import LetterStatus
from tests import test_celery_worker as celery_worker
from tests.evaluation import conftest as evaluation
from tests.evaluation import notified as world
from tests.pdf import pdf_text

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

# Fixtures bound here, not imported (an argument named like an import trips ruff's F811).
graded_call = evaluation.graded_call
evaluators = evaluation.evaluators
mailbox = celery_worker.mailbox
broker = celery_worker.broker
worker = celery_worker.worker


def all_letters_sent():
    return not NotificationLetter.objects.exclude(status=LetterStatus.SENT).exists()


def test_the_worker_renders_stores_and_mails_each_letter_once(
    graded_call, evaluators, instructeur, private_root, worker, mailbox
):
    decided = world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])
    worker.env["PRIVATE_MEDIA_ROOT"] = str(private_root)  # the same private storage
    worker.start()

    assert notify_decisions(graded_call, by=instructeur) == 4
    # Confirmed in this process; rendered by the worker.
    assert celery_worker.wait_until(all_letters_sent, seconds=120), worker.log.read_text()[-3000:]

    members = {
        key: decided[key].organisation.memberships.get().user.email
        for key in ("alpha", "beta", "gamma", "delta")
    }
    letter_emails = OutgoingEmail.objects.filter(template="decision_notified")
    assert celery_worker.wait_until(
        lambda: not letter_emails.exclude(status=EmailStatus.SENT).exists(), seconds=90
    ), worker.log.read_text()[-3000:]
    # Each letter's message reached the mail server once.
    assert sorted(mailbox.message_ids.count(message_id(email)) for email in letter_emails) == [
        1,
        1,
        1,
        1,
    ]
    for key, email in members.items():
        letter = world.decision_letter(decided[key])
        content = world.stored(letter)
        assert hashlib.sha256(content).hexdigest() == letter.sha256
        assert letter.email.to == [email] and letter.email.status == EmailStatus.SENT
        text = pdf_text(content)
        assert decided[key].organisation.name in text
        assert "tribunal administratif de Grenoble" in text
    assert "Traceback" not in worker.log.read_text()
