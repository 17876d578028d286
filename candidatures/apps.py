from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CandidaturesConfig(AppConfig):
    name = "candidatures"
    verbose_name = _("Candidatures")

    def ready(self):
        from candidatures import calendars, receipts, reminders
        from core.calendars import register_source
        from core.mail import register_renderer
        from core.reminders import register, register_digest_items

        register_renderer("receipt", receipts.receipt_pdf)
        register(reminders.DraftBeforeDeadline())
        register(reminders.PaperCopyMissing())
        register(reminders.PiecesBeforeDue())
        register_source(calendars.dossier_dates)
        register_digest_items(reminders.digest_items)
