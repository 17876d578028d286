"""Thin Celery wrappers around the services of ``aap``."""

import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from aap import mail, services


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


@shared_task(name="aap.requeue_pending_emails")
def requeue_pending_emails() -> int:
    return mail.requeue_pending_emails()


@shared_task(name="aap.close_calls_past_deadline")
def close_calls_past_deadline() -> int:
    return services.close_calls_past_deadline()


@shared_task(name="aap.run_reminders")
def run_reminders() -> int:
    from aap.reminders import run_sweep

    return run_sweep()
