from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConventionsConfig(AppConfig):
    name = "conventions"
    verbose_name = _("Conventions")

    def ready(self):
        from aap.copying import register_copier
        from candidatures import outcomes as dossier_outcomes
        from conventions import calendars, copying, outcomes, reminders
        from core.calendars import register_source
        from core.reminders import register, register_digest_items

        register(reminders.UnsignedAgreement())
        register(reminders.InstalmentDue())
        register(reminders.ReviewComing())
        register(reminders.ReportDue())
        register_digest_items(reminders.digest_items)
        register_source(calendars.agreement_dates)
        dossier_outcomes.register_events(outcomes.events)
        register_copier(copying.copy_convention_parts)
