"""The outbox: a message is stored with the change it reports, sent once, never lost."""

import contextlib
import datetime as dt
import smtplib

import pytest
import time_machine
from django.core.mail.backends import locmem
from django.utils import timezone

from core.mail import deliver_email, dispatch_emails, queue_email, requeue_pending_emails
from core.models import EmailStatus, OutgoingEmail
from tests.celery_utils import broker_url, eager


def _queue(key=None):
    return queue_email(
        to=["camille@epci-exemple.test"],
        template="question_answered",
        context={"call": None, "question": None},
        key=key,
    )


@pytest.fixture
def broker_down():
    """A broker that refuses connections; yields a function that brings Redis back."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(eager(False))
        stack.enter_context(broker_url("redis://127.0.0.1:1/0"))
        yield stack.close


def test_an_email_is_sent_once_after_commit(db, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        email = _queue()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject.startswith("[AAP Isère] ")
    assert deliver_email(email.pk) is False  # a duplicated task sends nothing
    assert len(mailoutbox) == 1


def test_the_same_key_stores_one_message(db):
    first = _queue(key="rappel-1")
    second = _queue(key="rappel-1")
    assert first.pk == second.pk
    assert OutgoingEmail.objects.count() == 1


def test_no_recipient_stores_nothing(db):
    assert queue_email(to=[], template="question_answered", context={}) is None
    assert not OutgoingEmail.objects.exists()


def test_a_rolled_back_change_sends_nothing(db, django_capture_on_commit_callbacks, mailoutbox):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                _queue()
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
    assert not OutgoingEmail.objects.exists()
    assert mailoutbox == []


def test_broker_down_keeps_the_message_and_the_sweep_sends_it_later(
    db, broker_down, django_capture_on_commit_callbacks, mailoutbox
):
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        email = _queue()
    assert (timezone.now() - started).total_seconds() < 10
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING
    assert mailoutbox == []
    assert requeue_pending_emails() == 0  # too recent, and the broker is still away

    broker_down()  # the broker is back (tasks run eagerly again, as in the other tests)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert requeue_pending_emails() == 1
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mailoutbox) == 1


def _stored(n):
    """``n`` messages stored without being handed to the broker (as the reminder sweep
    stores them, before it hands them all at once)."""
    return [
        OutgoingEmail.objects.create(
            key=f"lot-{index}",
            template="question_answered",
            to=[f"membre{index}@epci-exemple.test"],
            subject="Objet",
            body_text="Texte",
        ).pk
        for index in range(n)
    ]


def test_messages_handed_at_once_are_each_sent_once(db, mailoutbox):
    ids = _stored(3)
    assert dispatch_emails(ids) == 3
    assert sorted(message.to[0] for message in mailoutbox) == [
        f"membre{index}@epci-exemple.test" for index in range(3)
    ]
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert dispatch_emails(ids) == 3  # handed again (a duplicated task): nothing sent twice
    assert len(mailoutbox) == 3
    assert dispatch_emails([]) == 0


def test_messages_handed_at_once_to_a_broker_down_wait_for_the_sweep(db, broker_down, mailoutbox):
    ids = _stored(3)
    assert dispatch_emails(ids) == 0
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {EmailStatus.PENDING}
    broker_down()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert requeue_pending_emails() == 3
    assert len(mailoutbox) == 3


def test_a_mail_server_error_leaves_the_message_pending(db, settings, monkeypatch):
    email = _queue()

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("connexion perdue")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        deliver_email(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING
    assert email.attempts == 1
    assert "connexion perdue" in email.last_error


def test_a_claim_lost_with_its_worker_is_taken_again(db, mailoutbox):
    email = _queue()
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENDING,
        claimed_at=timezone.now() - dt.timedelta(hours=1),
        created_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert requeue_pending_emails() == 1
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mailoutbox) == 1


def test_every_copy_of_a_message_carries_the_same_message_id(db, settings):
    from core.mail import build_message, message_id

    settings.DEFAULT_FROM_EMAIL = "Département de l'Isère <ne-pas-repondre@aap.isere.fr>"
    first, second = _queue(key="a"), _queue(key="b")

    ids = [build_message(email).message()["Message-ID"] for email in (first, first, second)]

    assert ids[0] == ids[1] == message_id(first)
    assert ids[2] != ids[0]
    assert ids[0].startswith("<") and ids[0].endswith(f".{first.pk}.outbox@aap.isere.fr>")


def test_an_attachment_is_rendered_by_a_registered_name_never_a_path_to_code(db):
    from core.mail import attachment_content

    # A row naming a function by its dotted path renders nothing (the receipt's renderer
    # is registered as "receipt": tests/candidatures/test_submission.py reads its PDF).
    with pytest.raises(LookupError, match=r"os\.system"):
        attachment_content({"name": "x.pdf", "render": "os.system", "args": ["true"]})
