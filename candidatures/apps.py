from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CandidaturesConfig(AppConfig):
    name = "candidatures"
    verbose_name = _("Candidatures")

    def ready(self):
        from aap.calendars import register_source
        from aap.reminders import register
        from candidatures import calendars, reminders

        register(reminders.DraftBeforeDeadline())
        register(reminders.PaperCopyMissing())
        register(reminders.PiecesBeforeDue())
        register_source(calendars.dossier_dates)
