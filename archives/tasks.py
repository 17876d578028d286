"""Thin Celery wrapper around the build of a call's archive (``archives.services``)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from archives import services


@shared_task(
    name="archives.build_call_archive",
    # A database that restarts before the claim: try again (the claim makes it run once).
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def build_call_archive(*, archive_id: int) -> str | None:
    archive = services.build_call_archive(archive_id)
    return archive.status if archive is not None else None
