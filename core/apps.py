from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The platform's kernel: accounts, roles, the workflow engine, the outbox, the
    reminder and calendar engines, uploads, PDFs. It knows no call, dossier, score or
    agreement; the apps above it register what they add (reminder kinds, calendar
    sources)."""

    name = "core"
    verbose_name = _("Plateforme")

    def ready(self):
        from config.celery import ensure_broker_folders
        from core.accounts import mfa  # noqa: F401 (connects its user_logged_in receiver)
        from core.reminders import DailyDigest, register

        ensure_broker_folders()
        register(DailyDigest())
