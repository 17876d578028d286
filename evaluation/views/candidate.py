"""Candidates: the notification letter of their dossier."""

from django.shortcuts import get_object_or_404
from django.views import View

from candidatures import rules as dossier_rules
from core import downloads
from core import rules as core_rules
from core.permissions import ObjectRuleMixin
from evaluation.models import NotificationLetter


class LetterDownloadView(ObjectRuleMixin, View):
    rule = staticmethod(
        lambda user, letter: (
            dossier_rules.is_dossier_member(user, letter.candidature)
            or core_rules.is_platform_staff(user)
        )
    )

    def get_queryset(self):
        user = self.request.user
        letters_ = NotificationLetter.objects.select_related(
            "candidature__organisation", "candidature__call"
        )
        if core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user):
            return letters_
        return letters_.filter(candidature__organisation__memberships__user=user)

    def get_object(self, queryset=None):
        if not hasattr(self, "_rule_object"):
            self._rule_object = get_object_or_404(
                self.get_queryset(), candidature_id=self.kwargs["pk"]
            )
        return self._rule_object

    def get(self, request, pk):
        letter = self.get_object()
        return downloads.stored_file(
            letter.pdf, f"Notification-{letter.candidature.call.reference}.pdf"
        )
