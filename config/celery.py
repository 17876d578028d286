"""The Celery application: configuration comes from Django's settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders():
    """kombu's file-system transport needs its folders before the first message."""
    from django.conf import settings

    for folder in getattr(settings, "CELERY_BROKER_FOLDERS", {}).values():
        folder.mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _prepare_worker(**kwargs):
    ensure_broker_folders()
