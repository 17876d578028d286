from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Évaluation")

    def ready(self):
        from aap.calendars import register_source
        from aap.reminders import register
        from evaluation import calendars, reminders

        register(reminders.EvaluationsBeforeDue())
        register_source(calendars.scoring_dates)
