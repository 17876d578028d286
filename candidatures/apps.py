from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class CandidaturesConfig(AppConfig):
    name = "candidatures"
    verbose_name = _("Candidatures")

    def ready(self):
        from aap.notices import register_concerned
        from candidatures import (
            announcements,
            calendars,
            followup,
            forms,
            funding_request,
            listing,
            receipts,
            reminders,
        )
        from core.calendars import register_source
        from core.mail import register_renderer
        from core.reminders import register, register_digest_items

        register_renderer("receipt", receipts.receipt_pdf)
        register_renderer("funding_request", funding_request.funding_request_pdf)
        # Postponed deadlines and new answers reach everyone holding a dossier (aap.notices).
        register_concerned(announcements.dossier_holder_emails)
        register(reminders.DraftBeforeDeadline())
        register(reminders.PaperCopyMissing())
        register(reminders.PiecesBeforeDue())
        register_source(calendars.dossier_dates)
        register_digest_items(reminders.digest_items)
        listing.register_bulk_action(
            listing.BulkAction(
                key="message",
                label=_("Envoyer un message"),
                form=forms.BulkMessageForm,
                run=followup.post_messages,
                done=lambda n: (
                    ngettext(
                        "Message envoyé sur %(n)d dossier.", "Message envoyé sur %(n)d dossiers.", n
                    )
                    % {"n": n}
                ),
            )
        )
