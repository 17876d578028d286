from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CandidaturesConfig(AppConfig):
    name = "candidatures"
    verbose_name = _("Candidatures")

    def ready(self):
        from aap.reminders import register
        from candidatures import reminders

        register(reminders.DraftBeforeDeadline())
        register(reminders.PaperCopyMissing())
        register(reminders.PiecesBeforeDue())
