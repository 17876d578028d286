"""Thin Celery wrappers around the kernel's services: the outbox and the reminders.

The task names keep their ``aap.`` prefix: queued messages and django-celery-beat rows
name them so.
"""

import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from core import mail


@shared_task(
    name="aap.send_email",
    # A mail server that refuses or a database that restarts: both pass, try again.
    autoretry_for=(smtplib.SMTPException, OSError, OperationalError, InterfaceError),
    retry_backoff=settings.EMAIL_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=10,
)
def send_email(*, email_id: int) -> bool:
    return mail.deliver_email(email_id)


@shared_task(name="aap.send_emails")
def send_emails(*, email_ids: list[int]) -> int:
    """Many messages handed at once (``mail.dispatch_emails``): one task each."""
    return mail.queue_each(email_ids)


@shared_task(name="aap.requeue_pending_emails")
def requeue_pending_emails() -> int:
    return mail.requeue_pending_emails()


@shared_task(name="aap.run_reminders")
def run_reminders() -> int:
    from core.reminders import run_sweep  # the engine reads the apps' kinds: loaded late

    return run_sweep()
