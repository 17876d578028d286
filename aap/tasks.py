"""Thin Celery wrappers around the services of ``aap``."""

from celery import shared_task

from aap import services


@shared_task(name="aap.close_calls_past_deadline")
def close_calls_past_deadline() -> int:
    return services.close_calls_past_deadline()
