"""Thin Celery wrappers around the letters' services (``evaluation.letters``)."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from evaluation import letters


@shared_task(
    name="evaluation.send_letter",
    # A database that restarts or a storage that does not answer: both pass, try again.
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=settings.EMAIL_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=10,
)
def send_letter(*, letter_id: int) -> bool:
    return letters.send_letter(letter_id)


@shared_task(name="evaluation.send_queued_letters")
def send_queued_letters() -> int:
    return letters.requeue_queued_letters()
