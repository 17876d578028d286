from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Évaluation")

    def ready(self):
        from aap.abandon import register_abandon_check
        from aap.copying import register_copier
        from aap.queries import register_page_rows
        from aap.todo import register_todo
        from candidatures import listing as dossier_listing
        from candidatures import outcomes as dossier_outcomes
        from candidatures.announcements import register_audience
        from candidatures.reminders import settle_dossiers_when
        from core.calendars import register_source
        from core.reminders import register, register_digest_items
        from evaluation import (
            announcements,
            calendars,
            call_checks,
            copying,
            letters,
            listing,
            outcomes,
            reminders,
            todo,
        )

        register(reminders.EvaluationsBeforeDue())
        settle_dossiers_when(reminders.settled_dossiers)
        register_source(calendars.scoring_dates)
        register_digest_items(reminders.digest_items)
        dossier_outcomes.register_outcomes_and_events(outcomes.outcomes_and_events)
        register_copier(copying.copy_evaluation_parts)
        register_abandon_check(call_checks.abandon_problems)
        for provider in todo.PROVIDERS:
            register_todo(provider)
        dossier_listing.register_columns(listing.columns)
        dossier_listing.register_bulk_action(listing.assign_action())
        register_audience(announcements.AUDIENCE)
        register_page_rows(letters.selected_page_rows)
